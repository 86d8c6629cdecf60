import type { Knex } from 'knex'
import type { AgentAccess } from '../data/agents.js'
import type { Db } from '../data/database.js'
import { signatureChoices, type SignatureChoice } from '../data/agent-preferences.js'
import { findDepartmentSignature, findSignatures, setDepartmentSignature } from '../data/signatures.js'
import { recordAdminChange } from './admin-log.js'
import { notFound, TesseraError } from './errors.js'
import { sanitizeText } from './text.js'

export { signatureChoices, type SignatureChoice }

export const signatureMaxLength = 2000

/** The choices as a menu offers them. */
export const signatureOptions: ReadonlyArray<{ value: SignatureChoice, label: string }> = [
  { value: 'mine', label: 'My signature' },
  { value: 'department', label: 'The department’s signature' },
  { value: 'none', label: 'No signature' }
]

export function isSignatureChoice (value: unknown): value is SignatureChoice {
  return typeof value === 'string' && (signatureChoices as readonly string[]).includes(value)
}

/** What a reply form offers when the agent has not chosen: their preference, else their own signature. */
export function defaultSignatureChoice (agent: Pick<AgentAccess, 'preferences'>): SignatureChoice {
  return agent.preferences?.defaultSignature ?? 'mine'
}

/**
 * The reply as stored and mailed: the body, then the chosen signature after a blank line.
 * A signature that is not set (the agent's or the department's) adds nothing.
 */
export async function signReply (trx: Db, agentId: number, departmentId: number, body: string, choice: SignatureChoice): Promise<string> {
  if (choice === 'none') return body
  const signature = (await findSignatures(trx, agentId, departmentId))[choice]
  return signature ? `${body.trimEnd()}\n\n${signature}` : body
}

/** Bad input for the department signature form. */
export class SignatureInputError extends TesseraError {
  readonly field = 'signature'
  constructor (message: string) {
    super('TESSERA_INVALID_INPUT', message)
  }
}

/** The department's signature, cleaned; null when empty. Throws SignatureInputError when too long. */
export function cleanSignature (text: string): string | null {
  const clean = sanitizeText(text, text.length).trim()
  if ([...clean].length > signatureMaxLength) throw new SignatureInputError(`Signature must be ${signatureMaxLength} characters or fewer.`)
  return clean === '' ? null : clean
}

/** An administrator sets a department's signature (the department page); recorded in the admin log. */
export async function changeDepartmentSignature (db: Knex, admin: AgentAccess, departmentId: number, text: string, at: number): Promise<{ changed: boolean }> {
  const signature = cleanSignature(text)
  return await db.transaction(async (trx) => {
    const before = await findDepartmentSignature(trx, departmentId)
    if (before === undefined) throw notFound('That department')
    if (before === signature) return { changed: false }
    await setDepartmentSignature(trx, departmentId, signature)
    await recordAdminChange(trx, admin, { subject: 'department', subjectId: departmentId, action: 'signature_changed', before: { signature: before }, after: { signature } }, at)
    return { changed: true }
  })
}
