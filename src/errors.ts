/**
 * @module errors
 * VexilError and the VXL_* catalogue. The catalogue is data: each code has its HTTP status and a
 * default message. Mapping to response bodies happens only in http/error-handler.ts.
 */

export const codes = {
  VXL_CONFIG_INVALID: { status: 500, message: 'Invalid configuration.' },
  VXL_FLAG_KEY_EXISTS: { status: 400, message: 'There is already a feature flag with this key.' },
  VXL_NOT_FOUND: { status: 404, message: 'Not found.' },
  VXL_VALIDATION: { status: 400, message: 'Invalid input.' },
  VXL_CONFLICT: { status: 409, message: 'The resource was changed by someone else.' },
  VXL_STORE_UNAVAILABLE: { status: 503, message: 'Our database service is currently unavailable. Please try again later.' },
  VXL_INTERNAL: { status: 500, message: 'An internal server error occurred. Please try again later.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof codes;

export class VexilError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** The offending field (admin API `attr`), when there is one. */
  readonly attr: string | null;

  constructor(code: ErrorCode, options: { message?: string; attr?: string | null; cause?: unknown } = {}) {
    super(options.message ?? codes[code].message, { cause: options.cause });
    this.name = 'VexilError';
    this.code = code;
    this.status = codes[code].status;
    this.attr = options.attr ?? null;
  }
}

export function isVexilError(err: unknown): err is VexilError {
  return err instanceof VexilError;
}
