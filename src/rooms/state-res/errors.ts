// Errors in how resolution was called (never in the events it was given: malformed or
// missing events are ignored as the spec says, not thrown).

export type StateResolutionErrorCode = 'AUTH_CHAINS_MISMATCH' | 'UNKNOWN_ALGORITHM';

export class StateResolutionError extends Error {
  readonly code: StateResolutionErrorCode;

  constructor(code: StateResolutionErrorCode, message: string) {
    super(message);
    this.name = 'StateResolutionError';
    this.code = code;
  }
}
