import type { Knex } from 'knex'
import type { AgentAccess } from '../data/agents.js'
import { findDepartment } from '../data/catalog.js'
import {
  deleteCannedResponse, findCannedResponse, insertCannedResponse, updateCannedResponse, type CannedResponseRow
} from '../data/canned-responses.js'
import { changedFields, recordAdminChange } from './admin-log.js'
import { TesseraError } from './errors.js'

/**
 * Where a reply puts the requester's private link. The link is minted for each mail and
 * never stored, so the reply keeps this placeholder and the mail that carries it gets the
 * link in its place (src/mail/compose.ts).
 */
export const ticketLinkPlaceholder = '{ticket.link}'

/** The placeholders a canned response may use, with what each becomes. */
export const cannedPlaceholders = {
  '{requester.name}': 'the requester’s name',
  '{ticket.number}': 'the ticket number',
  '{agent.name}': 'your name (the agent inserting it)',
  [ticketLinkPlaceholder]: 'the requester’s private link, added to the e-mail when it is sent'
} as const

export interface PlaceholderValues {
  requesterName: string
  ticketNumber: string
  agentName: string
}

/** The response as the agent will send it; `{ticket.link}` stays for the mail to fill. */
export function fillPlaceholders (body: string, values: PlaceholderValues): string {
  const filled: Record<string, string> = {
    '{requester.name}': values.requesterName,
    '{ticket.number}': values.ticketNumber,
    '{agent.name}': values.agentName
  }
  // One pass, so a name that looks like a placeholder is left as it is.
  return body.replace(/\{(?:requester\.name|ticket\.number|agent\.name)\}/g, (placeholder) => filled[placeholder] ?? placeholder)
}

/** The responses an agent is offered: those for everyone and those of their departments. */
export function cannedResponsesFor<T extends Pick<CannedResponseRow, 'department_id'>> (access: AgentAccess, responses: readonly T[]): T[] {
  return responses.filter((response) => response.department_id === null || access.isAdmin || Object.hasOwn(access.roles, response.department_id))
}

export const cannedLimits = { title: 120, body: 20_000 } as const

export interface CannedResponseInput {
  title: string
  body: string
  departmentId: number | null
}

/** Administrators' verbs on canned responses; each runs in one transaction and is logged. */
export function createCannedResponses (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now

  async function checked (trx: Knex.Transaction, input: CannedResponseInput): Promise<CannedResponseInput> {
    const title = input.title.trim()
    const body = input.body.replace(/\r\n?/g, '\n').trimEnd()
    if (title === '' || [...title].length > cannedLimits.title) throw new TesseraError('TESSERA_INVALID_INPUT', `Give the response a title of 1 to ${cannedLimits.title} characters.`)
    if (body.trim() === '' || [...body].length > cannedLimits.body) throw new TesseraError('TESSERA_INVALID_INPUT', `Write the response in 1 to ${cannedLimits.body} characters.`)
    if (input.departmentId !== null && !await findDepartment(trx, input.departmentId)) throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the departments listed.')
    return { title, body, departmentId: input.departmentId }
  }

  async function existing (trx: Knex.Transaction, id: number): Promise<CannedResponseRow> {
    const row = await findCannedResponse(trx, id)
    if (!row) throw new TesseraError('TESSERA_NOT_FOUND', 'That canned response does not exist.')
    return row
  }

  const shape = (row: Pick<CannedResponseRow, 'title' | 'body' | 'department_id'>): Record<string, unknown> =>
    ({ title: row.title, body: row.body, department_id: row.department_id })

  return {
    async create (admin: AgentAccess, input: CannedResponseInput): Promise<number> {
      return await db.transaction(async (trx) => {
        const fields = await checked(trx, input)
        const id = await insertCannedResponse(trx, fields)
        const at = now()
        await recordAdminChange(trx, admin, { subject: 'canned_response', subjectId: id, action: 'created', after: { title: fields.title, body: fields.body, department_id: fields.departmentId } }, at)
        return id
      })
    },

    /** Saving it unchanged changes nothing and logs nothing. */
    async update (admin: AgentAccess, id: number, input: CannedResponseInput): Promise<void> {
      await db.transaction(async (trx) => {
        const before = await existing(trx, id)
        const fields = await checked(trx, input)
        const change = changedFields(shape(before), { title: fields.title, body: fields.body, department_id: fields.departmentId })
        if (!change) return
        await updateCannedResponse(trx, id, fields)
        await recordAdminChange(trx, admin, { subject: 'canned_response', subjectId: id, action: 'changed', ...change }, now())
      })
    },

    async remove (admin: AgentAccess, id: number): Promise<void> {
      await db.transaction(async (trx) => {
        const before = await existing(trx, id)
        await deleteCannedResponse(trx, id)
        await recordAdminChange(trx, admin, { subject: 'canned_response', subjectId: id, action: 'deleted', before: shape(before) }, now())
      })
    }
  }
}

export type CannedResponses = ReturnType<typeof createCannedResponses>
