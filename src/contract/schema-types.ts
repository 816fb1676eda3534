/**
 * The subset of JSON Schema (OpenAPI 3.0 flavour) that the Ours contract uses.
 * `schema.ts` is generated in this shape; `check.ts` interprets it.
 */
export interface Schema {
  type?: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  nullable?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  minItems?: number;
  maxItems?: number;
  enum?: readonly unknown[];
  required?: readonly string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  anyOf?: readonly Schema[];
}
