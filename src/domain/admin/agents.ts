import type { Knex } from 'knex'
import {
  countOtherActiveAdmins, deleteDepartmentRole, deleteInvitedAgent, departmentRoles, findAgentByEmail, findAgentListing,
  insertAgent, listOpenTicketsAssignedTo, retirePasswordResets, setDepartmentRole, updateAgentDetails,
  type AgentAccess, type AgentListing, type DepartmentRole
} from '../../data/agents.js'
import { listDepartments, type DepartmentRow } from '../../data/catalog.js'
import { isUniqueViolation, type Db } from '../../data/database.js'
import { deleteAgentSessions } from '../../data/sessions.js'
import { queuePasswordLink } from '../accounts.js'
import { changedFields, recordAdminChange } from '../admin-log.js'
import { normalizeEmail } from '../email-address.js'
import { notFound, TesseraError } from '../errors.js'
import { createLifecycle } from '../lifecycle.js'
import { actionsOfRole, agentActor, type StaffAction } from '../permissions.js'
import { sanitizeLine } from '../text.js'

export const agentNameMaxLength = 120
export const agentEmailMaxLength = 254

/** The names the admin pages give the roles ('view' is shown as "view only"). */
export const roleNames: Readonly<Record<DepartmentRole, string>> = { view: 'View only', agent: 'Agent', manager: 'Manager' }

// A Record over every action, so a new action cannot be left out of the roles' descriptions.
const actionNames: Readonly<Record<StaffAction, string>> = {
  read: 'read its tickets',
  reply: 'reply',
  note: 'write internal notes',
  assign: 'assign',
  claim: 'claim',
  release: 'release',
  transfer: 'transfer',
  changePriority: 'change priority',
  setPending: 'set pending',
  resolve: 'resolve',
  close: 'close',
  reopen: 'reopen',
  merge: 'merge',
  delete: 'delete and restore tickets'
}

/** What each role allows, in words, derived from the rule in permissions.ts. */
export function describeRoles (): Array<{ role: DepartmentRole, name: string, allows: string }> {
  return departmentRoles.map((role, index) => {
    const lesser = index > 0 ? departmentRoles[index - 1] : undefined
    const had = new Set(lesser ? actionsOfRole(lesser) : [])
    const added = actionsOfRole(role).filter((action) => !had.has(action)).map((action) => actionNames[action])
    const allows = lesser ? `everything ${roleNames[lesser]} allows, and ${added.join(', ')}` : added.join(', ')
    return { role, name: roleNames[role], allows: allows.charAt(0).toUpperCase() + allows.slice(1) + '.' }
  })
}

export function isDepartmentRole (value: unknown): value is DepartmentRole {
  return typeof value === 'string' && (departmentRoles as readonly string[]).includes(value)
}

/** Bad input for one field of an agent's form: the message goes next to that field. */
export class AgentInputError extends TesseraError {
  constructor (readonly field: string, message: string) {
    super('TESSERA_INVALID_INPUT', message)
  }
}

/**
 * What an administrator sets for an agent, as typed; roles name only the departments to
 * change, by id (null: no role). Every value is checked here, whoever sends it.
 */
export interface AgentChanges {
  name?: string
  email?: string
  isAdmin?: boolean
  roles?: Record<number, string | null>
}

export type NewAgent = Required<Pick<AgentChanges, 'name' | 'email' | 'isAdmin' | 'roles'>>

/** Who makes a change: an administrator on the pages, or nobody in particular (the CLI). */
export type AgentAdministrator = AgentAccess | null

export type AgentAdmin = ReturnType<typeof createAgentAdmin>

export interface AgentAdminOptions {
  reopenWindowMs: number
  now?: () => number
}

const emailShape = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

function cleanName (name: string): string {
  const clean = sanitizeLine(name, name.length)
  if (clean === '') throw new AgentInputError('name', 'Enter the agent’s name.')
  if ([...clean].length > agentNameMaxLength) throw new AgentInputError('name', `Name must be ${agentNameMaxLength} characters or fewer.`)
  return clean
}

function cleanEmail (email: string): string {
  const clean = normalizeEmail(email)
  if (clean.length > agentEmailMaxLength) throw new AgentInputError('email', `E-mail address must be ${agentEmailMaxLength} characters or fewer.`)
  if (!emailShape.test(clean)) throw new AgentInputError('email', 'Enter an e-mail address like name@example.com.')
  return clean
}

const duplicateEmail = (): AgentInputError => new AgentInputError('email', 'Another agent already has that e-mail address.')

/** Department roles by department name, as the log shows them. */
function rolesByName (roles: Record<number, DepartmentRole>, departments: readonly DepartmentRow[]): Record<string, string> {
  const named: Record<string, string> = {}
  for (const department of departments) {
    const role = roles[department.id]
    if (role) named[department.name] = role
  }
  return named
}

/**
 * What administrators do to agents (the admin pages and the CLI call the same verbs). Each
 * runs in one transaction that makes the change and records it in the admin log; a change
 * that would change nothing is answered calmly and recorded nowhere.
 */
export function createAgentAdmin (db: Knex, options: AgentAdminOptions) {
  const now = options.now ?? Date.now

  async function loadAgent (trx: Db, agentId: number): Promise<AgentListing> {
    const agent = await findAgentListing(trx, agentId)
    if (!agent) throw notFound('That agent')
    return agent
  }

  async function checkedRoles (trx: Db, roles: Record<number, unknown>): Promise<{ roles: Record<number, DepartmentRole | null>, departments: DepartmentRow[] }> {
    const departments = await listDepartments(trx)
    const checked: Record<number, DepartmentRole | null> = {}
    for (const [key, role] of Object.entries(roles)) {
      const id = Number(key)
      if (!departments.some((d) => d.id === id)) throw new AgentInputError(`role_${key}`, 'That department does not exist (any more). Reload the page and choose again.')
      if (role !== null && !isDepartmentRole(role)) throw new AgentInputError(`role_${key}`, 'Choose view only, agent, manager or no role.')
      checked[id] = role
    }
    return { roles: checked, departments }
  }

  async function applyRoles (trx: Db, agentId: number, roles: Record<number, DepartmentRole | null>): Promise<void> {
    for (const [department, role] of Object.entries(roles)) {
      if (role === null) await deleteDepartmentRole(trx, agentId, Number(department))
      else await setDepartmentRole(trx, agentId, Number(department), role)
    }
  }

  /** The desk must keep one administrator who can sign in. */
  async function assertAnotherAdmin (trx: Db, agent: AgentListing, message: string): Promise<void> {
    if (agent.isAdmin && agent.active && !agent.invited && await countOtherActiveAdmins(trx, agent.id) === 0) {
      throw new AgentInputError('is_admin', message)
    }
  }

  async function inTransaction<T> (work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    try {
      return await db.transaction(work)
    } catch (err) {
      // Two administrators giving the same address at once: one of them loses to the index.
      if (isUniqueViolation(err)) throw duplicateEmail()
      throw err
    }
  }

  const agentAdmin = {
    /** Adds an agent without a password and mails them a link, valid a week, to choose one. */
    async invite (admin: AgentAdministrator, input: NewAgent): Promise<number> {
      const name = cleanName(input.name)
      const email = cleanEmail(input.email)
      return await inTransaction(async (trx) => {
        const { roles, departments } = await checkedRoles(trx, input.roles)
        if (await findAgentByEmail(trx, email)) throw duplicateEmail()
        const at = now()
        const id = await insertAgent(trx, { name, email, passwordHash: null, isAdmin: input.isAdmin }, at)
        await applyRoles(trx, id, roles)
        await queuePasswordLink(trx, { id, name, email }, 'invitation', at)
        const given = Object.fromEntries(Object.entries(roles).filter((entry): entry is [string, DepartmentRole] => entry[1] !== null))
        await recordAdminChange(trx, admin, {
          subject: 'agent', subjectId: id, action: 'invited', after: { name, email, is_admin: input.isAdmin, roles: rolesByName(given, departments) }
        }, at)
        return id
      })
    },

    /** A fresh invitation link; every earlier one stops working. */
    async resendInvitation (admin: AgentAdministrator, agentId: number): Promise<AgentListing> {
      return await db.transaction(async (trx) => {
        const agent = await loadAgent(trx, agentId)
        if (!agent.invited) throw new TesseraError('TESSERA_TRANSITION_REFUSED', `${agent.name} has already accepted the invitation.`)
        if (!agent.active) throw new TesseraError('TESSERA_TRANSITION_REFUSED', `${agent.name} is disabled; enable them first.`)
        const at = now()
        await retirePasswordResets(trx, agent.id, at)
        await queuePasswordLink(trx, agent, 'invitation', at)
        await recordAdminChange(trx, admin, { subject: 'agent', subjectId: agent.id, action: 'invitation_resent', after: { email: agent.email } }, at)
        return agent
      })
    },

    /**
     * Withdraws an invitation not yet accepted: its link stops working and the agent is
     * removed (or, when tickets already name them, kept disabled).
     */
    async revokeInvitation (admin: AgentAdministrator, agentId: number): Promise<AgentListing> {
      return await db.transaction(async (trx) => {
        const agent = await loadAgent(trx, agentId)
        if (!agent.invited) throw new TesseraError('TESSERA_TRANSITION_REFUSED', `${agent.name} has already accepted the invitation; disable them instead.`)
        const at = now()
        await retirePasswordResets(trx, agent.id, at)
        if (!await deleteInvitedAgent(trx, agent.id)) await updateAgentDetails(trx, agent.id, { active: false })
        await recordAdminChange(trx, admin, { subject: 'agent', subjectId: agent.id, action: 'invitation_revoked', before: { name: agent.name, email: agent.email } }, at)
        return agent
      })
    },

    /** Name, e-mail, administrator or not, and roles per department; only what changed is saved and logged. */
    async update (admin: AgentAdministrator, agentId: number, changes: AgentChanges): Promise<AgentListing> {
      const name = changes.name === undefined ? undefined : cleanName(changes.name)
      const email = changes.email === undefined ? undefined : cleanEmail(changes.email)
      return await inTransaction(async (trx) => {
        const agent = await loadAgent(trx, agentId)
        const { roles, departments } = await checkedRoles(trx, changes.roles ?? {})
        const details = changedFields({ name: agent.name, email: agent.email, is_admin: agent.isAdmin }, { name, email, is_admin: changes.isAdmin })
        const newRoles: Record<number, DepartmentRole> = { ...agent.roles }
        for (const [department, role] of Object.entries(roles)) {
          if (role === null) delete newRoles[Number(department)]
          else newRoles[Number(department)] = role
        }
        const roleChange = changedFields({ roles: JSON.stringify(rolesByName(agent.roles, departments)) }, { roles: JSON.stringify(rolesByName(newRoles, departments)) })
        if (!details && !roleChange) return agent
        if (details?.after.is_admin === false) await assertAnotherAdmin(trx, agent, 'The desk needs another administrator who can sign in before this one stops being one.')
        if (details?.after.email !== undefined) {
          const holder = await findAgentByEmail(trx, details.after.email)
          if (holder && holder.id !== agent.id) throw duplicateEmail()
        }
        const at = now()
        await updateAgentDetails(trx, agent.id, details?.after ?? {})
        await applyRoles(trx, agent.id, roles)
        await recordAdminChange(trx, admin, {
          subject: 'agent',
          subjectId: agent.id,
          action: 'updated',
          before: { ...details?.before, ...(roleChange ? { roles: rolesByName(agent.roles, departments) } : {}) },
          after: { ...details?.after, ...(roleChange ? { roles: rolesByName(newRoles, departments) } : {}) }
        }, at)
        return { ...agent, ...details?.after, isAdmin: changes.isAdmin ?? agent.isAdmin, roles: newRoles }
      })
    },

    /**
     * The agent can no longer sign in, and every session they have ends now: their next
     * request goes to the sign-in page. Their tickets stay theirs until released or reassigned.
     */
    async disable (admin: AgentAdministrator, agentId: number): Promise<AgentListing> {
      return await db.transaction(async (trx) => {
        const agent = await loadAgent(trx, agentId)
        if (!agent.active) return agent
        await assertAnotherAdmin(trx, agent, 'The desk needs another administrator who can sign in before this one is disabled.')
        const at = now()
        await updateAgentDetails(trx, agent.id, { active: false })
        await deleteAgentSessions(trx, agent.id)
        await retirePasswordResets(trx, agent.id, at)
        await recordAdminChange(trx, admin, { subject: 'agent', subjectId: agent.id, action: 'disabled', before: { active: true }, after: { active: false } }, at)
        return { ...agent, active: false }
      })
    },

    async enable (admin: AgentAdministrator, agentId: number): Promise<AgentListing> {
      return await db.transaction(async (trx) => {
        const agent = await loadAgent(trx, agentId)
        if (agent.active) return agent
        const at = now()
        await updateAgentDetails(trx, agent.id, { active: true })
        await recordAdminChange(trx, admin, { subject: 'agent', subjectId: agent.id, action: 'enabled', before: { active: false }, after: { active: true } }, at)
        return { ...agent, active: true }
      })
    },

    /** Mails the agent a link, valid an hour, to choose a new password. */
    async sendPasswordReset (admin: AgentAdministrator, agentId: number): Promise<AgentListing> {
      return await db.transaction(async (trx) => {
        const agent = await loadAgent(trx, agentId)
        if (!agent.active) throw new TesseraError('TESSERA_TRANSITION_REFUSED', `${agent.name} is disabled; enable them first.`)
        if (agent.invited) throw new TesseraError('TESSERA_TRANSITION_REFUSED', `${agent.name} has not accepted the invitation yet; send it again instead.`)
        const at = now()
        await queuePasswordLink(trx, agent, 'password_reset', at)
        await recordAdminChange(trx, admin, { subject: 'agent', subjectId: agent.id, action: 'password_reset_sent', after: { email: agent.email } }, at)
        return agent
      })
    },

    /** Every open ticket of the agent is released, each an event on its ticket; one transaction. */
    async releaseAllTickets (admin: AgentAccess, agentId: number): Promise<number> {
      return await handOverTickets(admin, agentId, null)
    },

    /** Every open ticket of the agent goes to another agent (its team kept); one transaction. */
    async reassignAllTickets (admin: AgentAccess, agentId: number, toAgentId: number): Promise<number> {
      if (toAgentId === agentId) throw new AgentInputError('agent', 'Choose another agent.')
      return await handOverTickets(admin, agentId, toAgentId)
    }
  }

  async function handOverTickets (admin: AgentAccess, agentId: number, toAgentId: number | null): Promise<number> {
    return await db.transaction(async (trx) => {
      const agent = await loadAgent(trx, agentId)
      const tickets = await listOpenTicketsAssignedTo(trx, agent.id)
      // The lifecycle's own verbs, on this transaction (each verb a savepoint within it), so
      // every ticket gets its event and notices and one refusal leaves every ticket as it was.
      const lifecycle = createLifecycle(trx, { reopenWindowMs: options.reopenWindowMs, now })
      const actor = agentActor(admin)
      for (const ticket of tickets) {
        try {
          if (toAgentId === null) await lifecycle.releaseTicket(ticket, actor)
          else await lifecycle.assignTicket(ticket, actor, { agentId: toAgentId, teamId: ticket.team_id })
        } catch (err) {
          if (err instanceof TesseraError) throw new AgentInputError('agent', `Ticket ${ticket.number}: ${err.message} Nothing was changed.`)
          throw err
        }
      }
      if (tickets.length > 0) {
        await recordAdminChange(trx, admin, {
          subject: 'agent',
          subjectId: agent.id,
          action: toAgentId === null ? 'tickets_released' : 'tickets_reassigned',
          after: { tickets: tickets.map((t) => t.number).join(', '), ...(toAgentId === null ? {} : { to_agent_id: toAgentId }) }
        }, now())
      }
      return tickets.length
    })
  }

  return agentAdmin
}
