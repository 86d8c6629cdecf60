/**
 * An expected failure: callers branch on `code`, people read `message`, and `statusCode`
 * tells the web layer how to answer. Anything that is not a TesseraError is a bug.
 */
export class TesseraError extends Error {
  constructor (readonly code: TesseraErrorCode, message: string, readonly statusCode: number) {
    super(message)
    this.name = 'TesseraError'
  }
}

export type TesseraErrorCode =
  | 'TESSERA_TRANSITION_REFUSED'
  | 'TESSERA_NOT_FOUND'
  | 'TESSERA_FORBIDDEN'
  | 'TESSERA_INVALID_INPUT'
  | 'TESSERA_CONFLICT'

export function notFound (what = 'That page'): TesseraError {
  return new TesseraError('TESSERA_NOT_FOUND', `${what} could not be found.`, 404)
}
