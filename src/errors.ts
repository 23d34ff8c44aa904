/**
 * The one base of the product's own errors. `code` is stable and machine-readable: the API maps
 * codes to HTTP statuses in one table, activities map them to Temporal failure types.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
