import type { Knex } from 'knex'
import { findAgent, addTeamMember, type AgentAccess } from '../../data/agents.js'
import { isUniqueViolation, type Db } from '../../data/database.js'
import {
  countDepartmentTickets, countOpenTeamTickets, deleteDepartment, deleteDepartmentAddress, deleteTeam, findDepartment,
  findDepartmentAddress, findDepartmentByName, findHelpTopic, findHelpTopicByName, findTeam, findTeamByName, insertDepartment,
  insertDepartmentAddress, insertHelpTopic, insertTeam, isTeamMember, listDepartmentTopicNames, moveDepartmentTickets,
  removeTeamMember, updateDepartment, updateHelpTopic, updateTeam, newTicketAudiences,
  type DepartmentDetail, type HelpTopicFields, type HelpTopicRow, type NewTicketAudience
} from '../../data/catalog.js'
import { changedFields, recordAdminChange } from '../admin-log.js'
import { normalizeEmail } from '../email-address.js'
import { notFound, TesseraError } from '../errors.js'
import { isPriority } from '../lifecycle.js'

/** Bad input that belongs beside one field of the form that sent it. */
export class FieldInputError extends TesseraError {
  constructor (readonly field: string, message: string) {
    super('TESSERA_INVALID_INPUT', message)
  }
}

export const nameMaxLength = 120
export const addressMaxLength = 254

// The shape forms check too; here because an address reaches a verb from anywhere.
const addressPattern = /^[^\s@<>()[\]",;:\\]+@[^\s@<>()[\]",;:\\.]+(\.[^\s@<>()[\]",;:\\.]+)+$/

function cleanName (field: string, what: string, value: string): string {
  const name = value.trim()
  if (name === '') throw new FieldInputError(field, `Enter a name for the ${what}.`)
  if ([...name].length > nameMaxLength) throw new FieldInputError(field, `The name must be ${nameMaxLength} characters or fewer.`)
  return name
}

function cleanAddress (field: string, value: string): string {
  const address = normalizeEmail(value)
  if (address.length > addressMaxLength || !addressPattern.test(address)) throw new FieldInputError(field, `“${value.trim()}” is not an e-mail address; write it like help@example.com.`)
  return address
}

function cleanPriority (field: string, value: number): number {
  if (!isPriority(value)) throw new FieldInputError(field, 'Choose one of the priorities listed.')
  return value
}

export interface DepartmentInput {
  name: string
  senderName: string
  senderAddress: string
  defaultPriority: number
  newTicketNotice: string
}

export interface HelpTopicInput {
  name: string
  public: boolean
  sortOrder: number
  departmentId: number
  /** Null: the department's default. */
  defaultPriority: number | null
  defaultTeamId: number | null
  defaultAgentId: number | null
}

type DepartmentState = Omit<DepartmentDetail, 'id'>

function departmentState (department: DepartmentDetail): DepartmentState {
  const { id: _id, ...state } = department
  return state
}

/**
 * What an administrator does to departments, help topics and teams. Each verb runs in one
 * transaction that makes the change and records it in the admin log; a change that would
 * change nothing records nothing. Input that cannot be used is a FieldInputError naming
 * the field it belongs to.
 */
export function createCatalogAdmin (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now

  async function department (trx: Db, id: number): Promise<DepartmentDetail> {
    const found = await findDepartment(trx, id)
    if (!found) throw notFound('That department')
    return found
  }

  async function usableDepartment (trx: Db, field: string, id: number, unlessAlready?: number): Promise<DepartmentDetail> {
    const found = await findDepartment(trx, id)
    if (!found || (found.archived_at !== null && id !== unlessAlready)) throw new FieldInputError(field, 'Choose one of the active departments listed.')
    return found
  }

  async function uniqueName (field: string, existing: { id: number } | undefined, id: number | undefined, what: string): Promise<void> {
    if (existing && existing.id !== id) throw new FieldInputError(field, `There is already a ${what} with that name.`)
  }

  /** Inserting or renaming can still meet a name taken a moment ago by someone else. */
  async function nameTaken<T> (field: string, what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (err) {
      if (isUniqueViolation(err)) throw new FieldInputError(field, `There is already a ${what} with that name.`)
      throw err
    }
  }

  async function departmentFields (trx: Db, input: DepartmentInput, id?: number): Promise<Omit<DepartmentState, 'archived_at'>> {
    const name = cleanName('name', 'department', input.name)
    await uniqueName('name', await findDepartmentByName(trx, name), id, 'department')
    const senderName = input.senderName.trim()
    if ([...senderName].length > nameMaxLength) throw new FieldInputError('senderName', `The sender name must be ${nameMaxLength} characters or fewer.`)
    const senderAddress = input.senderAddress.trim() === '' ? null : cleanAddress('senderAddress', input.senderAddress)
    if (senderName !== '' && senderAddress === null) throw new FieldInputError('senderAddress', 'Enter the address the sender name goes with.')
    const audience = newTicketAudiences.find((a) => a === input.newTicketNotice)
    if (!audience) throw new FieldInputError('newTicketNotice', 'Choose who is told about new tickets.')
    return {
      name,
      sender_name: senderName === '' ? null : senderName,
      sender_address: senderAddress,
      default_priority: cleanPriority('defaultPriority', input.defaultPriority),
      new_ticket_notice: audience as NewTicketAudience
    }
  }

  async function topicFields (trx: Db, input: HelpTopicInput, current?: HelpTopicRow): Promise<HelpTopicFields> {
    const name = cleanName('name', 'help topic', input.name)
    await uniqueName('name', await findHelpTopicByName(trx, name), current?.id, 'help topic')
    await usableDepartment(trx, 'department', input.departmentId, current?.department_id)
    if (!Number.isSafeInteger(input.sortOrder) || Math.abs(input.sortOrder) > 1_000_000) throw new FieldInputError('sortOrder', 'The order is a whole number, like 10.')
    if (input.defaultTeamId !== null && !await findTeam(trx, input.defaultTeamId)) throw new FieldInputError('team', 'Choose one of the teams listed.')
    if (input.defaultAgentId !== null && input.defaultAgentId !== current?.default_agent_id && !(await findAgent(trx, input.defaultAgentId))?.active) {
      throw new FieldInputError('agent', 'Choose one of the active agents listed.')
    }
    return {
      name,
      department_id: input.departmentId,
      public: input.public,
      sort_order: input.sortOrder,
      default_priority: input.defaultPriority === null ? null : cleanPriority('priority', input.defaultPriority),
      default_team_id: input.defaultTeamId,
      default_agent_id: input.defaultAgentId,
      active: current?.active ?? true
    }
  }

  async function helpTopic (trx: Db, id: number): Promise<HelpTopicRow> {
    const found = await findHelpTopic(trx, id)
    if (!found) throw notFound('That help topic')
    const { priority: _priority, ...topic } = found
    return topic
  }

  async function team (trx: Db, id: number): Promise<NonNullable<Awaited<ReturnType<typeof findTeam>>>> {
    const found = await findTeam(trx, id)
    if (!found) throw notFound('That team')
    return found
  }

  return {
    async createDepartment (admin: AgentAccess, input: DepartmentInput): Promise<number> {
      return await nameTaken('name', 'department', async () => await db.transaction(async (trx) => {
        const at = now()
        const fields = await departmentFields(trx, input)
        const id = await insertDepartment(trx, fields, at)
        await recordAdminChange(trx, admin, { subject: 'department', subjectId: id, action: 'created', after: fields }, at)
        return id
      }))
    },

    async changeDepartment (admin: AgentAccess, id: number, input: DepartmentInput): Promise<void> {
      await nameTaken('name', 'department', async () => await db.transaction(async (trx) => {
        const current = await department(trx, id)
        const change = changedFields(departmentState(current), await departmentFields(trx, input, id))
        if (!change) return
        const at = now()
        await updateDepartment(trx, id, change.after)
        await recordAdminChange(trx, admin, { subject: 'department', subjectId: id, action: 'changed', ...change }, at)
      }))
    },

    /** Not offered for new tickets, transfers or topics any more; its tickets stay where they are. */
    async archiveDepartment (admin: AgentAccess, id: number): Promise<void> {
      await db.transaction(async (trx) => {
        const current = await department(trx, id)
        if (current.archived_at !== null) return
        const at = now()
        await updateDepartment(trx, id, { archived_at: at })
        await recordAdminChange(trx, admin, { subject: 'department', subjectId: id, action: 'archived', before: { archived: false }, after: { archived: true } }, at)
      })
    },

    async reactivateDepartment (admin: AgentAccess, id: number): Promise<void> {
      await db.transaction(async (trx) => {
        const current = await department(trx, id)
        if (current.archived_at === null) return
        const at = now()
        await updateDepartment(trx, id, { archived_at: null })
        await recordAdminChange(trx, admin, { subject: 'department', subjectId: id, action: 'reactivated', before: { archived: true }, after: { archived: false } }, at)
      })
    },

    /** Mail to this address opens tickets in the department; an address belongs to one department. */
    async addDepartmentAddress (admin: AgentAccess, id: number, value: string): Promise<void> {
      const address = cleanAddress('address', value)
      const taken = (): FieldInputError => new FieldInputError('address', `${address} already belongs to another department.`)
      try {
        await db.transaction(async (trx) => {
          await department(trx, id)
          const owner = await findDepartmentAddress(trx, address)
          if (owner?.department_id === id) return
          if (owner) throw new FieldInputError('address', `${address} already belongs to the department ${owner.department_name}.`)
          const at = now()
          await insertDepartmentAddress(trx, id, address)
          await recordAdminChange(trx, admin, { subject: 'department', subjectId: id, action: 'address_added', after: { address } }, at)
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw taken()
        throw err
      }
    },

    async removeDepartmentAddress (admin: AgentAccess, id: number, addressId: number): Promise<void> {
      await db.transaction(async (trx) => {
        await department(trx, id)
        const removed = await deleteDepartmentAddress(trx, id, addressId)
        if (!removed) return
        await recordAdminChange(trx, admin, { subject: 'department', subjectId: id, action: 'address_removed', before: { address: removed.address } }, now())
      })
    },

    /**
     * Moves every ticket of the department to another active one, each move a `transferred`
     * event by the admin. No notices: an admin emptying a department is reorganising, and a
     * mail per ticket to the receiving department would bury its agents.
     */
    async moveDepartmentTickets (admin: AgentAccess, id: number, targetId: number): Promise<number> {
      return await db.transaction(async (trx) => {
        await department(trx, id)
        if (targetId === id) throw new FieldInputError('department', 'Choose another department to move the tickets to.')
        const target = await usableDepartment(trx, 'department', targetId)
        const at = now()
        const moved = await moveDepartmentTickets(trx, id, target.id, admin.id, at)
        if (moved > 0) {
          await recordAdminChange(trx, admin, { subject: 'department', subjectId: id, action: 'tickets_moved', after: { tickets: moved, to: target.name } }, at)
        }
        return moved
      })
    },

    /** Only an empty department goes: its tickets and topics must be moved first. */
    async deleteDepartment (admin: AgentAccess, id: number): Promise<void> {
      await db.transaction(async (trx) => {
        const current = await department(trx, id)
        const tickets = await countDepartmentTickets(trx, id)
        if (tickets > 0) throw new TesseraError('TESSERA_TRANSITION_REFUSED', `${current.name} still holds ${tickets} ticket${tickets === 1 ? '' : 's'}; move them to another department first.`)
        const topics = await listDepartmentTopicNames(trx, id)
        if (topics.length > 0) throw new TesseraError('TESSERA_TRANSITION_REFUSED', `Help topics still file tickets in ${current.name} (${topics.join(', ')}); give them another department first.`)
        await deleteDepartment(trx, id)
        await recordAdminChange(trx, admin, { subject: 'department', subjectId: id, action: 'deleted', before: { name: current.name } }, now())
      })
    },

    async createHelpTopic (admin: AgentAccess, input: HelpTopicInput): Promise<number> {
      return await nameTaken('name', 'help topic', async () => await db.transaction(async (trx) => {
        const fields = await topicFields(trx, input)
        const at = now()
        const id = await insertHelpTopic(trx, fields)
        await recordAdminChange(trx, admin, { subject: 'help_topic', subjectId: id, action: 'created', after: fields }, at)
        return id
      }))
    },

    async changeHelpTopic (admin: AgentAccess, id: number, input: HelpTopicInput): Promise<void> {
      await nameTaken('name', 'help topic', async () => await db.transaction(async (trx) => {
        const current = await helpTopic(trx, id)
        const { id: _id, ...state } = current
        const change = changedFields(state, await topicFields(trx, input, current))
        if (!change) return
        await updateHelpTopic(trx, id, change.after)
        await recordAdminChange(trx, admin, { subject: 'help_topic', subjectId: id, action: 'changed', ...change }, now())
      }))
    },

    /** Retired: not offered any more; tickets filed under it keep it. */
    async setHelpTopicActive (admin: AgentAccess, id: number, active: boolean): Promise<void> {
      await db.transaction(async (trx) => {
        const current = await helpTopic(trx, id)
        if (current.active === active) return
        if (active) await usableDepartment(trx, 'department', current.department_id)
        await updateHelpTopic(trx, id, { active })
        await recordAdminChange(trx, admin, { subject: 'help_topic', subjectId: id, action: active ? 'reinstated' : 'retired', before: { active: !active }, after: { active } }, now())
      })
    },

    async createTeam (admin: AgentAccess, input: { name: string }): Promise<number> {
      return await nameTaken('name', 'team', async () => await db.transaction(async (trx) => {
        const name = cleanName('name', 'team', input.name)
        await uniqueName('name', await findTeamByName(trx, name), undefined, 'team')
        const id = await insertTeam(trx, name)
        await recordAdminChange(trx, admin, { subject: 'team', subjectId: id, action: 'created', after: { name } }, now())
        return id
      }))
    },

    /** Renames the team and names its lead, who must be one of its members (or nobody). */
    async changeTeam (admin: AgentAccess, id: number, input: { name: string, leadId: number | null }): Promise<void> {
      await nameTaken('name', 'team', async () => await db.transaction(async (trx) => {
        const current = await team(trx, id)
        const name = cleanName('name', 'team', input.name)
        await uniqueName('name', await findTeamByName(trx, name), id, 'team')
        if (input.leadId !== null && !await isTeamMember(trx, id, input.leadId)) throw new FieldInputError('lead', 'Choose the lead among the team’s members.')
        const change = changedFields({ name: current.name, lead_id: current.lead_id }, { name, lead_id: input.leadId })
        if (!change) return
        await updateTeam(trx, id, change.after)
        await recordAdminChange(trx, admin, { subject: 'team', subjectId: id, action: 'changed', ...change }, now())
      }))
    },

    async addTeamMember (admin: AgentAccess, id: number, agentId: number): Promise<void> {
      await db.transaction(async (trx) => {
        await team(trx, id)
        if (!(await findAgent(trx, agentId))?.active) throw new FieldInputError('agent', 'Choose one of the active agents listed.')
        if (await isTeamMember(trx, id, agentId)) return
        await addTeamMember(trx, id, agentId)
        await recordAdminChange(trx, admin, { subject: 'team', subjectId: id, action: 'member_added', after: { agent_id: agentId } }, now())
      })
    },

    /** A lead who leaves the team stops leading it. */
    async removeTeamMember (admin: AgentAccess, id: number, agentId: number): Promise<void> {
      await db.transaction(async (trx) => {
        const current = await team(trx, id)
        if (!await removeTeamMember(trx, id, agentId)) return
        if (current.lead_id === agentId) await updateTeam(trx, id, { lead_id: null })
        await recordAdminChange(trx, admin, { subject: 'team', subjectId: id, action: 'member_removed', before: { agent_id: agentId } }, now())
      })
    },

    /** Only a team with nothing left to work goes; finished tickets simply keep no team. */
    async deleteTeam (admin: AgentAccess, id: number): Promise<void> {
      await db.transaction(async (trx) => {
        const current = await team(trx, id)
        const open = await countOpenTeamTickets(trx, id)
        if (open > 0) throw new TesseraError('TESSERA_TRANSITION_REFUSED', `${current.name} still has ${open} open ticket${open === 1 ? '' : 's'}; assign them elsewhere first.`)
        await deleteTeam(trx, id)
        await recordAdminChange(trx, admin, { subject: 'team', subjectId: id, action: 'deleted', before: { name: current.name } }, now())
      })
    }
  }
}

export type CatalogAdmin = ReturnType<typeof createCatalogAdmin>
