// `npm run lint`: eslint (typescript-eslint's recommended rules) and `prettier --check`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'bench/.out/',
      'node_modules/',
      'test/runtimes/bin/',
      'test/package/fixtures/',
      'test/next/*/build/', // next build's output, left by the Next tests
      'test/next/*/example-types/', // examples/next copied for its type check
      'test/next/*/example-broken/',
      '**/*.d.ts',
      'src/contract/types.ts',
      'src/contract/schema.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        queueMicrotask: 'readonly',
        globalThis: 'readonly',
        structuredClone: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
        Headers: 'readonly',
        crypto: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        CompressionStream: 'readonly',
        ReadableStream: 'readonly',
        Blob: 'readonly',
        AbortSignal: 'readonly',
        URLSearchParams: 'readonly',
      },
    },
    rules: {
      // `_name` marks a value kept on purpose (a destructured field left out, an unused callback argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none',
          ignoreRestSiblings: true,
        },
      ],
      // Best-effort cleanup (a file already gone, a process already dead) says so in a comment or not at all.
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['test/**', 'bench/**', 'examples/**'],
    rules: {
      // chai's property assertions (`expect(x).to.exist`) are expressions.
      '@typescript-eslint/no-unused-expressions': 'off',
      // Framework apps of every major version, typed loosely on purpose.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
