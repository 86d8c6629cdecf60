import { isTesseraError } from '../../../domain/errors.js'
import { FieldInputError } from '../../../domain/admin/catalog.js'
import type { FieldErrors } from '../../forms.js'

/** What an admin form shows again after a verb refused it. */
export interface Refusal { errors: FieldErrors, status: number }

/**
 * A verb's refusal as form errors: bad input beside its field (422), a change the state does
 * not allow (a department that still holds tickets) above the form (409). Anything else is
 * not the form's business and goes on to the error handler.
 */
export function refusalOf (err: unknown): Refusal | undefined {
  if (err instanceof FieldInputError) return { errors: { [err.field]: err.message }, status: 422 }
  if (isTesseraError(err, 'TESSERA_INVALID_INPUT', 'TESSERA_TRANSITION_REFUSED')) {
    return { errors: { _form: err.message }, status: err.code === 'TESSERA_INVALID_INPUT' ? 422 : 409 }
  }
  return undefined
}

/** Runs the verb; its refusal comes back as form errors, anything unexpected is thrown on. */
export async function attempt (work: () => Promise<unknown>): Promise<Refusal | undefined> {
  try {
    await work()
    return undefined
  } catch (err) {
    const refusal = refusalOf(err)
    if (!refusal) throw err
    return refusal
  }
}

/** A select's id: '' is none; anything that is not an id is an id nothing has (-1), refused by the verb. */
export function optionalId (value: string): number | null {
  if (value === '') return null
  return /^[0-9]{1,9}$/.test(value) ? Number(value) : -1
}

/** A required id from a select; anything malformed becomes an id nothing has. */
export function requiredId (value: string): number {
  return optionalId(value) ?? -1
}
