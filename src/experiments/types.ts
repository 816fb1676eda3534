/**
 * What `req.ours.experiment(key)` resolves to. Outside the experiment (not
 * eligible, unknown key, no visitor, API slow or down) it is the control
 * path: `inExperiment: false`, `isControl: true`, no variant.
 *
 * @example
 * const variant = await req.ours.experiment('checkout-redesign');
 * res.render(variant.variantName === 'one-page' ? 'checkout-one-page' : 'checkout');
 */
export interface ExperimentAssignment {
  /** The visitor is bucketed in this experiment (and the page is eligible). */
  readonly inExperiment: boolean;
  /** The variant's id, or `null` outside the experiment. */
  readonly variantId: string | null;
  /** The variant's name as set in the dashboard, or `null` when unknown or outside. */
  readonly variantName: string | null;
  /** Render the control: the control variant, or not in the experiment at all. */
  readonly isControl: boolean;
  /** The experiment's key, as asked for (or as the API spells it). */
  readonly experimentKey: string;
  /** The experiment's id, when the API gave one. */
  readonly experimentId?: string | undefined;
  /**
   * Split-URL variants only: where to send the visitor (a same-site path or an
   * `https://` URL). `req.ours.redirect(assignment)` answers with it.
   */
  readonly redirect?: string | undefined;
}

/**
 * One active personalization of a visitor.
 *
 * @example
 * const hero = (await req.ours.personalization()).personalizations.find((p) => p.experimentKey === 'hero');
 */
export interface PersonalizationEntry {
  /** When the visitor was assigned (as the API gives it, a number). */
  readonly assignedAt: number;
  readonly experimentId: string;
  readonly variantId: string;
  readonly experimentKey?: string | undefined;
  readonly experimentName?: string | undefined;
  readonly variantName?: string | undefined;
}

/**
 * What `req.ours.personalization()` resolves to: empty lists when the visitor
 * matched nothing yet, or when the API could not answer in time.
 * The properties also reach the visitor's browser: never secrets or PHI.
 *
 * @example
 * const { properties } = await req.ours.personalization();
 * const headline = typeof properties.headline === 'string' ? properties.headline : 'Welcome';
 */
export interface Personalization {
  readonly personalizations: readonly PersonalizationEntry[];
  readonly properties: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Options of one `experiment()` call.
 *
 * @example
 * await req.ours.experiment('pricing', { trackImpression: false }); // read without recording
 */
export interface ExperimentCallOptions {
  /**
   * Record an `$experiment_impression` for the visitor (the API's
   * `track_impression`). A cached answer already recorded is not recorded
   * again. @defaultValue true
   */
  trackImpression?: boolean | undefined;
  /**
   * The visitor to bucket, when it is not the request's (the `ours_device_id`
   * cookie, or the `userId` given by `setIdentity()` / the `identify` option).
   * Use an id the browser SDK uses too, or browser and server disagree.
   */
  visitorId?: string | undefined;
}

/**
 * Options of one `personalization()` call.
 *
 * @example
 * await req.ours.personalization({ visitorId: session.visitorId });
 */
export interface PersonalizationCallOptions {
  /** As for {@link ExperimentCallOptions.visitorId}. */
  visitorId?: string | undefined;
}
