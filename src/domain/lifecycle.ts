import type { Knex } from 'knex'
import { isUniqueViolation, type Db } from '../data/database.js'
import { findActiveHelpTopic, findDepartment } from '../data/catalog.js'
import { enqueueMessage } from '../data/outbox.js'
import { noticeEnabled, type NoticeTemplate } from './notices.js'
import { findRequester, upsertRequester } from '../data/requesters.js'
import {
  findTicketById, findTicketByNumber, insertAccessToken, insertEntry, insertEvent, insertTicket,
  deleteTicketRows, findEntryAfter, moveThread, updateTicket, type EntryKind, type TicketRow, type TicketStatus
} from '../data/tickets.js'
import { findAgent, listDepartmentAgents, listTeamAgents, loadAgentAccess } from '../data/agents.js'
import { notFound, TesseraError } from './errors.js'
import { may, roleOn, type StaffAction } from './permissions.js'
import { newAccessToken, randomTicketNumber } from './secrets.js'

export type Actor =
  | { kind: 'agent', agentId: number }
  | { kind: 'requester', requesterId: number }
  | { kind: 'system' }

/** Everything a ticket can be asked to do, by anyone. */
export type Verb =
  | 'reply' | 'clientReply' | 'note' | 'assign' | 'claim' | 'release' | 'transfer'
  | 'changePriority' | 'setPending' | 'resolve' | 'close' | 'reopen' | 'confirmSolved' | 'merge'

export const statuses: readonly TicketStatus[] = ['open', 'pending', 'resolved', 'closed']
const working: readonly TicketStatus[] = ['open', 'pending', 'resolved']

/** The lifecycle in one table: the statuses from which each verb is allowed. */
export const allowedFrom: Readonly<Record<Verb, readonly TicketStatus[]>> = {
  reply: working,
  clientReply: statuses,
  note: statuses,
  assign: working,
  claim: working,
  release: working,
  transfer: working,
  changePriority: working,
  setPending: ['open'],
  resolve: ['open', 'pending'],
  close: working,
  reopen: ['resolved', 'closed'],
  confirmSolved: ['resolved'],
  merge: working
}

const verbLabels: Record<Verb, string> = {
  reply: 'answered',
  clientReply: 'replied to',
  note: 'noted',
  assign: 'assigned',
  claim: 'claimed',
  release: 'released',
  transfer: 'transferred',
  changePriority: 'given a new priority',
  setPending: 'set to pending',
  resolve: 'resolved',
  close: 'closed',
  reopen: 'reopened',
  confirmSolved: 'confirmed as solved',
  merge: 'merged'
}

export function canTransition (verb: Verb, status: TicketStatus): boolean {
  return allowedFrom[verb].includes(status)
}

export function assertTransition (verb: Verb, status: TicketStatus): void {
  if (!canTransition(verb, status)) {
    throw new TesseraError('TESSERA_TRANSITION_REFUSED', `${status === 'open' ? 'An' : 'A'} ${status} ticket cannot be ${verbLabels[verb]}.`, 409)
  }
}

export const priorities = [
  { value: 1, label: 'Low' },
  { value: 2, label: 'Normal' },
  { value: 3, label: 'High' },
  { value: 4, label: 'Urgent' }
] as const

/** The phase a client sees on the step indicator, derived from what the desk has done. */
export type ClientPhase = 'submitted' | 'assigned' | 'in_progress' | 'resolved' | 'closed'

export function clientPhase (ticket: Pick<TicketRow, 'status' | 'assignee_id' | 'team_id' | 'first_response_at'>): ClientPhase {
  if (ticket.status === 'closed') return 'closed'
  if (ticket.status === 'resolved') return 'resolved'
  if (ticket.status === 'pending' || ticket.first_response_at !== null) return 'in_progress'
  if (ticket.assignee_id !== null || ticket.team_id !== null) return 'assigned'
  return 'submitted'
}

export interface LifecycleOptions {
  /** How long after closing a client reply reopens the ticket instead of starting a new one. */
  reopenWindowMs: number
  now?: () => number
}

export interface NewTicketInput {
  name: string
  email: string
  subject: string
  message: string
  helpTopicId: number
  /** Set when the ticket arrives by e-mail. */
  mail?: MailOrigin
  /** Overrides the help topic's department (mail sent to a department's address). */
  departmentId?: number
}

/** Where an entry came from when it arrived by e-mail. */
export interface MailOrigin {
  messageId: string
  /** The full text as received, kept when `body` had quoted history trimmed. */
  originalBody: string | null
}

export interface OpenedTicket {
  ticket: TicketRow
  /** The private link token; shown once, then only its hash exists. */
  accessToken: string
}

export type Lifecycle = ReturnType<typeof createLifecycle>

export function createLifecycle (db: Knex, options: LifecycleOptions) {
  const now = options.now ?? Date.now

  async function record (trx: Db, ticket: TicketRow, actor: Actor, type: string, before: unknown, after: unknown, at: number): Promise<void> {
    await insertEvent(trx, {
      ticket_id: ticket.id,
      type,
      actor_kind: actor.kind,
      agent_id: actor.kind === 'agent' ? actor.agentId : null,
      requester_id: actor.kind === 'requester' ? actor.requesterId : null,
      before_state: before === null ? null : JSON.stringify(before),
      after_state: after === null ? null : JSON.stringify(after),
      created_at: at
    })
  }

  /**
   * Loads the ticket inside the transaction, checks the actor may do this to it, then that
   * the verb is allowed from its status. A ticket an agent may not see is simply not found.
   */
  async function load (trx: Db, ticketId: number, verb: StaffAction, actor: Actor): Promise<TicketRow> {
    const ticket = await findTicketById(trx, ticketId)
    if (!ticket) throw notFound('That ticket')
    if (actor.kind === 'agent') {
      const access = await loadAgentAccess(trx, actor.agentId)
      if (!access || roleOn(access, ticket) === null) throw notFound('That ticket')
      if (!may(access, ticket, verb)) throw new TesseraError('TESSERA_FORBIDDEN', 'Your role in this department does not allow that.', 403)
    } else if (actor.kind === 'requester' && actor.requesterId !== ticket.requester_id) {
      throw notFound('That ticket')
    }
    if (verb !== 'read' && verb !== 'delete') assertTransition(verb, ticket.status)
    return ticket
  }

  async function changeStatus (trx: Db, ticket: TicketRow, actor: Actor, status: TicketStatus, at: number): Promise<TicketRow> {
    const patch: Partial<TicketRow> = { status, last_activity_at: at }
    if (status === 'resolved') patch.resolved_at = at
    if (status === 'closed') patch.closed_at = at
    if (status === 'open') { patch.resolved_at = null; patch.closed_at = null }
    await updateTicket(trx, ticket.id, patch)
    await record(trx, ticket, actor, 'status_changed', { status: ticket.status }, { status }, at)
    return { ...ticket, ...patch }
  }

  async function issueToken (trx: Db, ticketId: number, at: number): Promise<string> {
    const { token, hash } = newAccessToken()
    await insertAccessToken(trx, ticketId, hash, at)
    return token
  }

  async function createTicket (trx: Db, input: NewTicketInput & { followsTicketId?: number }, at: number, attempt = 0): Promise<OpenedTicket> {
    const topic = await findActiveHelpTopic(trx, input.helpTopicId)
    if (!topic) throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the help topics listed.', 422)
    const requester = await upsertRequester(trx, input.name, input.email, at)
    const actor: Actor = { kind: 'requester', requesterId: requester.id }
    const fields = {
      subject: input.subject,
      status: 'open' as const,
      priority: topic.priority,
      department_id: input.departmentId ?? topic.department_id,
      help_topic_id: topic.id,
      requester_id: requester.id,
      assignee_id: null,
      team_id: null,
      follows_ticket_id: input.followsTicketId ?? null,
      created_at: at,
      last_activity_at: at
    }
    const number = randomTicketNumber(attempt)
    const id = await insertTicket(trx, { ...fields, number })
    const ticket: TicketRow = {
      ...fields, id, number, answered: false, merged_into_id: null, first_response_at: null, resolved_at: null, closed_at: null, due_at: null
    }
    await addEntry(trx, ticket, 'message', actor, input.message, at, input.mail)
    await record(trx, ticket, actor, 'created', null, { status: 'open', department_id: ticket.department_id, follows: input.followsTicketId ?? null }, at)
    const accessToken = await issueToken(trx, id, at)
    await notify(trx, 'ticket_received', [requester.email], ticket, { name: requester.name }, at)
    await notifyAgents(trx, 'new_ticket', await listDepartmentAgents(trx, ticket.department_id), null, ticket, { requesterName: requester.name, message: input.message }, at)
    return { ticket, accessToken }
  }

  async function insertNewTicket (input: NewTicketInput & { followsTicketId?: number }, at: number): Promise<OpenedTicket> {
    // A taken number (rare, or a concurrent insert) trips the unique index; the whole
    // transaction is retried with a fresh number, from a wider range after a few tries.
    for (let attempt = 0; ; attempt++) {
      try {
        return await db.transaction(async (trx) => await createTicket(trx, input, at, attempt))
      } catch (err) {
        if (attempt >= 8 || !isUniqueViolation(err)) throw err
      }
    }
  }

  /** Whether a client reply reopens this ticket, rather than starting a follow-up. */
  function replyReopens (ticket: Pick<TicketRow, 'status' | 'closed_at'>, at: number): boolean {
    return ticket.status !== 'closed' || (ticket.closed_at ?? 0) + options.reopenWindowMs >= at
  }

  async function addEntry (trx: Db, ticket: TicketRow, kind: EntryKind, actor: Actor, body: string, at: number, mail?: MailOrigin): Promise<number> {
    return await insertEntry(trx, {
      ticket_id: ticket.id,
      kind,
      agent_id: actor.kind === 'agent' ? actor.agentId : null,
      requester_id: actor.kind === 'requester' ? actor.requesterId : null,
      body,
      created_at: at,
      message_id: mail?.messageId ?? null,
      original_body: mail?.originalBody ?? null
    })
  }

  /**
   * Queues a notice about a ticket, unless an admin switched that notice off. Runs inside
   * the caller's transaction: the notice exists exactly when the change does.
   */
  async function notify (trx: Db, template: NoticeTemplate, to: readonly string[], ticket: TicketRow, payload: Record<string, unknown>, at: number): Promise<void> {
    if (to.length === 0 || !await noticeEnabled(trx, template)) return
    for (const address of new Set(to)) {
      await enqueueMessage(trx, { template, toAddress: address, ticketId: ticket.id, payload: { number: ticket.number, subject: ticket.subject, ...payload } }, at)
    }
  }

  /** The same for agents, leaving out the agent who caused it. */
  async function notifyAgents (trx: Db, template: NoticeTemplate, agents: ReadonlyArray<{ id: number, email: string }>, actor: Actor | null, ticket: TicketRow, payload: Record<string, unknown>, at: number): Promise<void> {
    const others = agents.filter((agent) => !(actor?.kind === 'agent' && actor.agentId === agent.id))
    await notify(trx, template, others.map((agent) => agent.email), ticket, payload, at)
  }

  async function requireAgent (trx: Db, agentId: number): Promise<{ id: number, name: string, email: string }> {
    const agent = await findAgent(trx, agentId)
    if (!agent || !agent.active) throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose an active agent.', 422)
    return agent
  }

  async function requireDepartment (trx: Db, departmentId: number): Promise<void> {
    if (!await findDepartment(trx, departmentId)) throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the departments listed.', 422)
  }

  return {
    now,

    /** For the client page: does replying now reopen this ticket? */
    replyReopens: (ticket: Pick<TicketRow, 'status' | 'closed_at'>): boolean => replyReopens(ticket, now()),

    async openTicket (input: NewTicketInput): Promise<OpenedTicket> {
      return await insertNewTicket(input, now())
    },

    /**
     * The requester writes again. Resolved or pending tickets go back to open; a closed one
     * reopens within the reopen window, after it a new ticket is opened that follows the old.
     */
    async addClientReply (ticketId: number, requesterId: number, body: string, mail?: MailOrigin): Promise<{ number: string, followUp: OpenedTicket | null }> {
      const at = now()
      const followUpOf = await db.transaction(async (trx) => {
        const actor: Actor = { kind: 'requester', requesterId }
        const ticket = await load(trx, ticketId, 'clientReply', actor)
        if (!replyReopens(ticket, at)) return ticket
        await addEntry(trx, ticket, 'message', actor, body, at, mail)
        await updateTicket(trx, ticket.id, { last_activity_at: at })
        await record(trx, ticket, actor, 'client_replied', null, null, at)
        const assignee = ticket.assignee_id === null ? undefined : await findAgent(trx, ticket.assignee_id)
        if (assignee?.active) await notify(trx, 'client_message', [assignee.email], ticket, { body }, at)
        if (ticket.status !== 'open') {
          await changeStatus(trx, ticket, actor, 'open', at)
          await updateTicket(trx, ticket.id, { answered: false })
        } else if (ticket.answered) {
          await updateTicket(trx, ticket.id, { answered: false })
        }
        return null
      })
      if (!followUpOf) return { number: (await findTicketById(db, ticketId))!.number, followUp: null }
      const requester = (await findRequester(db, requesterId))!
      const followUp = await insertNewTicket({
        name: requester.name,
        email: requester.email,
        subject: followUpOf.subject,
        message: body,
        helpTopicId: followUpOf.help_topic_id ?? 0,
        followsTicketId: followUpOf.id,
        mail
      }, at)
      return { number: followUp.ticket.number, followUp }
    },

    async confirmSolved (ticketId: number, requesterId: number): Promise<void> {
      await db.transaction(async (trx) => {
        const actor: Actor = { kind: 'requester', requesterId }
        const ticket = await load(trx, ticketId, 'confirmSolved', actor)
        await changeStatus(trx, ticket, actor, 'closed', now())
      })
    },

    /** Queues a fresh private link when e-mail and number match; silent either way. */
    async sendAccessLink (email: string, number: string): Promise<void> {
      await db.transaction(async (trx) => {
        const ticket = await findTicketByNumber(trx, number)
        if (!ticket) return
        const requester = await findRequester(trx, ticket.requester_id)
        if (!requester || requester.email !== email) return
        const at = now()
        await notify(trx, 'access_link', [requester.email], ticket, { name: requester.name }, at)
      })
    },

    /**
     * An agent answers the requester. `seenEntryId` is the newest entry the agent had on
     * screen: if anyone else has written since, nothing is sent and the agent decides again.
     */
    async addResponse (ticketId: number, agentId: number, body: string, seenEntryId?: number): Promise<number> {
      return await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'reply', { kind: 'agent', agentId })
        const agent = await requireAgent(trx, agentId)
        if (seenEntryId !== undefined && await findEntryAfter(trx, ticket.id, seenEntryId, agentId)) {
          throw new TesseraError('TESSERA_CONFLICT', 'Someone else wrote on this ticket while you were typing, so your reply was not sent. Read the new message below, then send your reply again.', 409)
        }
        const at = now()
        const actor: Actor = { kind: 'agent', agentId }
        const entryId = await addEntry(trx, ticket, 'response', actor, body, at)
        await updateTicket(trx, ticket.id, {
          answered: true,
          last_activity_at: at,
          first_response_at: ticket.first_response_at ?? at
        })
        await record(trx, ticket, actor, 'replied', null, null, at)
        const requester = (await findRequester(trx, ticket.requester_id))!
        await notify(trx, 'agent_response', [requester.email], ticket, { name: requester.name, agentName: agent.name, body }, at)
        return entryId
      })
    },

    async addNote (ticketId: number, agentId: number, body: string, mail?: MailOrigin): Promise<number> {
      return await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'note', { kind: 'agent', agentId })
        await requireAgent(trx, agentId)
        const at = now()
        const actor: Actor = { kind: 'agent', agentId }
        const entryId = await addEntry(trx, ticket, 'note', actor, body, at, mail)
        await updateTicket(trx, ticket.id, { last_activity_at: at })
        await record(trx, ticket, actor, 'note_added', null, null, at)
        return entryId
      })
    },

    async assignTicket (ticketId: number, actor: Actor, target: { agentId: number | null, teamId: number | null }): Promise<void> {
      await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'assign', actor)
        if (target.agentId !== null) await requireAgent(trx, target.agentId)
        if (target.teamId !== null && !await trx('teams').where({ id: target.teamId }).first('id')) {
          throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the teams listed.', 422)
        }
        const at = now()
        await updateTicket(trx, ticket.id, { assignee_id: target.agentId, team_id: target.teamId, last_activity_at: at })
        await record(trx, ticket, actor, 'assigned',
          { assignee_id: ticket.assignee_id, team_id: ticket.team_id },
          { assignee_id: target.agentId, team_id: target.teamId }, at)
        const newAssignee = target.agentId !== null && target.agentId !== ticket.assignee_id ? await findAgent(trx, target.agentId) : undefined
        const newTeam = target.teamId !== null && target.teamId !== ticket.team_id ? await listTeamAgents(trx, target.teamId) : []
        await notifyAgents(trx, 'ticket_assigned', [...(newAssignee ? [newAssignee] : []), ...newTeam], actor, ticket, {}, at)
      })
    },

    async claimTicket (ticketId: number, agentId: number): Promise<void> {
      await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'claim', { kind: 'agent', agentId })
        await requireAgent(trx, agentId)
        const at = now()
        await updateTicket(trx, ticket.id, { assignee_id: agentId, last_activity_at: at })
        await record(trx, ticket, { kind: 'agent', agentId }, 'claimed', { assignee_id: ticket.assignee_id }, { assignee_id: agentId }, at)
      })
    },

    async releaseTicket (ticketId: number, actor: Actor): Promise<void> {
      await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'release', actor)
        const at = now()
        await updateTicket(trx, ticket.id, { assignee_id: null, team_id: null, last_activity_at: at })
        await record(trx, ticket, actor, 'released', { assignee_id: ticket.assignee_id, team_id: ticket.team_id }, { assignee_id: null, team_id: null }, at)
      })
    },

    async transferTicket (ticketId: number, actor: Actor, departmentId: number): Promise<void> {
      await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'transfer', actor)
        await requireDepartment(trx, departmentId)
        const at = now()
        await updateTicket(trx, ticket.id, { department_id: departmentId, last_activity_at: at })
        await record(trx, ticket, actor, 'transferred', { department_id: ticket.department_id }, { department_id: departmentId }, at)
        if (departmentId !== ticket.department_id) {
          await notifyAgents(trx, 'ticket_transferred', await listDepartmentAgents(trx, departmentId), actor, ticket, {}, at)
        }
      })
    },

    async changePriority (ticketId: number, actor: Actor, priority: number): Promise<void> {
      if (!priorities.some((p) => p.value === priority)) {
        throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the priorities listed.', 422)
      }
      await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'changePriority', actor)
        const at = now()
        await updateTicket(trx, ticket.id, { priority, last_activity_at: at })
        await record(trx, ticket, actor, 'priority_changed', { priority: ticket.priority }, { priority }, at)
      })
    },

    async setPending (ticketId: number, actor: Actor): Promise<void> {
      await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'setPending', actor)
        await changeStatus(trx, ticket, actor, 'pending', now())
      })
    },

    async resolveTicket (ticketId: number, actor: Actor): Promise<void> {
      await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'resolve', actor)
        const at = now()
        await changeStatus(trx, ticket, actor, 'resolved', at)
        const requester = (await findRequester(trx, ticket.requester_id))!
        await notify(trx, 'ticket_resolved', [requester.email], ticket, { name: requester.name }, at)
      })
    },

    async closeTicket (ticketId: number, actor: Actor): Promise<void> {
      await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'close', actor)
        const at = now()
        await changeStatus(trx, ticket, actor, 'closed', at)
        const requester = (await findRequester(trx, ticket.requester_id))!
        await notify(trx, 'ticket_closed', [requester.email], ticket, { name: requester.name }, at)
      })
    },

    async reopenTicket (ticketId: number, actor: Actor): Promise<void> {
      await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'reopen', actor)
        await changeStatus(trx, ticket, actor, 'open', now())
      })
    },

    /** The status a person picked from a list: the verb that leads there. */
    async setStatus (ticketId: number, actor: Actor, status: TicketStatus): Promise<void> {
      switch (status) {
        case 'open': return await this.reopenTicket(ticketId, actor)
        case 'pending': return await this.setPending(ticketId, actor)
        case 'resolved': return await this.resolveTicket(ticketId, actor)
        case 'closed': return await this.closeTicket(ticketId, actor)
        default: throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the statuses listed.', 422)
      }
    },

    /** Moves the whole thread into `targetId` and closes this ticket with a pointer to it. */
    async mergeTicket (ticketId: number, targetId: number, actor: Actor): Promise<void> {
      if (ticketId === targetId) throw new TesseraError('TESSERA_INVALID_INPUT', 'A ticket cannot be merged into itself.', 422)
      await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'merge', actor)
        const target = await load(trx, targetId, 'read', actor).catch(() => null)
        if (!target) throw new TesseraError('TESSERA_INVALID_INPUT', 'There is no ticket with that number.', 422)
        if (target.status === 'closed') throw new TesseraError('TESSERA_TRANSITION_REFUSED', 'A closed ticket cannot receive a merge; reopen it first.', 409)
        const at = now()
        await moveThread(trx, ticket.id, target.id)
        await updateTicket(trx, ticket.id, { status: 'closed', closed_at: at, merged_into_id: target.id, last_activity_at: at })
        await updateTicket(trx, target.id, { last_activity_at: at })
        await record(trx, ticket, actor, 'merged', { status: ticket.status }, { status: 'closed', merged_into: target.number }, at)
        await record(trx, target, actor, 'merged_in', null, { from: ticket.number }, at)
      })
    },

    async deleteTicket (ticketId: number, actor: Actor): Promise<void> {
      await db.transaction(async (trx) => {
        const ticket = await load(trx, ticketId, 'delete', actor)
        await deleteTicketRows(trx, ticket.id)
      })
    }
  }
}
