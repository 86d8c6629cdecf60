/**
 * An expected failure: code branches on `code`, people read `message`. How the web layer
 * answers each code (the HTTP status) is decided in one place, `src/web/plugins/errors.ts`.
 * Anything that is not a TesseraError is a bug.
 */
export class TesseraError extends Error {
  constructor (readonly code: TesseraErrorCode, message: string) {
    super(message)
    this.name = 'TesseraError'
  }
}

/** One code per meaning. */
export type TesseraErrorCode =
  /** Nobody is signed in, or the credentials do not match. */
  | 'TESSERA_NOT_SIGNED_IN'
  /** Signed in, but this person's role does not allow it. */
  | 'TESSERA_FORBIDDEN'
  /** Too many attempts; try again later. */
  | 'TESSERA_RATE_LIMITED'
  /** Someone else changed the thing meanwhile; look again and retry. */
  | 'TESSERA_CONFLICT'
  /** The lifecycle does not allow this from the ticket's current status. */
  | 'TESSERA_TRANSITION_REFUSED'
  /** What was sent is not valid (a choice not offered, a missing value). */
  | 'TESSERA_INVALID_INPUT'
  /** It does not exist, or this person may not know that it does. */
  | 'TESSERA_NOT_FOUND'

export function notFound (what = 'That page'): TesseraError {
  return new TesseraError('TESSERA_NOT_FOUND', `${what} could not be found.`)
}

export function isTesseraError (err: unknown, ...codes: TesseraErrorCode[]): err is TesseraError {
  return err instanceof TesseraError && (codes.length === 0 || codes.includes(err.code))
}
