import type { Knex } from 'knex'
import { allInTransaction, isUniqueViolation, readingLatestCommits, readLists, transactionRetryingDeadlocks, type Db } from '../data/database.js'
import { asError, groupCommit } from '../data/group-commit.js'
import { findDepartment, findTeam, helpTopicsList, type DepartmentDetail, type HelpTopicRow, type NewTicketTopic } from '../data/catalog.js'
import { createMissingRequesters, findRequester, requestersByEmailList, type RequesterRow } from '../data/requesters.js'
import {
  findTicketByNumber, insertAccessTokens, insertEntry, insertFirstMessages, insertTickets, findEntryAfter,
  listExpiredTrash, markTicketDeleted, markTicketRestored, moveThread, purgeTicketRows, repointMerges, takenNumbers, takenNumbersList, ticketsBySubmissionList, touchViewer,
  updateTicket, updateTicketIf, type EntryKind, type EntryRow, type EventType, type TicketRow, type TicketSource, type TicketStatus
} from '../data/tickets.js'
import { findAgents, isAssignable } from '../data/agents.js'
import { deleteAttachments, insertAttachments, listTicketAttachmentRefs } from '../data/attachments.js'
import type { StoredFile } from '../attachments/store.js'
import { notFound, TesseraError } from './errors.js'
import {
  noticeAccessLink, noticeAgentResponse, noticeClientMessage, newTicketRecipientsLists, noticeNewTickets, noticeTicketAssigned, noticeTicketsAssigned, noticeTicketClosed,
  noticeTicketMerged, noticeTicketResolved, noticeTicketTransferred
} from './notices.js'
import {
  assertRole, assertTransition, hasRole, mergeTargetRole, roleOn, type Actor, type AgentActor, type ClientAction, type StaffAction
} from './permissions.js'
import { newAccessToken, randomTicketNumber } from './secrets.js'
import { assertMergeable, assertNotMerged, mergeCrossesRequesters, mergeDestination } from './merge.js'
import { purgeDueAt, restorable, trashRetentionDays, trashRetentionMs } from './trash.js'
import { memo } from './memo.js'
import { candidateAgents, routingCandidates, takeTurns } from './routing.js'
import { newTicketPlansList, slaFirstResponse, slaStatusChanged, startClocks } from './sla.js'
import { startSurvey } from './survey.js'
import { signReply, type SignatureChoice } from './signatures.js'
import { carryParticipantsOnMerge, copyReplyToParticipants } from './participants.js'
import type { OnBehalf } from './tickets-on-behalf.js'
import { recordEvent, recordEvents, systemActor, type TicketEvent } from './ticket-events.js'

export type { Actor, AgentActor } from './permissions.js'
export { agentActor, statuses } from './permissions.js'

/** The priorities a ticket can have, lowest first (their labels live with the formatting). */
export const priorityValues = [1, 2, 3, 4] as const
export type Priority = typeof priorityValues[number]

export function isPriority (value: number): value is Priority {
  return (priorityValues as readonly number[]).includes(value)
}

export interface LifecycleOptions {
  /**
   * How long after closing a client reply reopens the ticket instead of starting a new one;
   * a function when an administrator's setting may change it while the desk runs.
   */
  reopenWindowMs: number | (() => Promise<number>)
  now?: () => number
  /** Called after a purge with the files its tickets held, to delete those no entry uses now. */
  releaseFiles?: (sha256s: string[]) => Promise<void>
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
  /** The new-ticket form's one-time id: sending the same form again finds this ticket. */
  submissionId?: string
  /** Sent from the portal, which offers only public topics. */
  fromPortal?: boolean
  /** No "we received your request" mail (the address is a list or a group alias). */
  noReceipt?: boolean
  /** Files attached to the first message, already in the file store. */
  files?: readonly StoredFile[]
  /** How it reached the desk; web unless said. */
  source?: TicketSource
  /** An agent opens it for someone (a caller, a visitor); see src/domain/tickets-on-behalf.ts. */
  onBehalf?: OnBehalf
}

/** Where an entry came from when it arrived by e-mail. */
export interface MailOrigin {
  messageId: string
  /** The full text as received, kept when `body` had quoted history trimmed or was shortened. */
  originalBody: string | null
  /** The HTML part as sent, for agents to view in a sandbox. */
  html?: string | null
  /** `body` is the start of a longer message (the full text is `originalBody`). */
  shortened?: boolean
}

export interface OpenedTicket {
  ticket: TicketRow
  /** The private link token; shown once, then only its hash exists. */
  accessToken: string
  /** True when the same form submission had already opened this ticket. */
  replayed?: boolean
}

/** A ticket as a request loaded it; a page's view of it carries the requester along. */
export type LoadedTicket = TicketRow & { requester_name?: string, requester_email?: string }

export type Lifecycle = ReturnType<typeof createLifecycle>

/** A thread entry's row, as the actor writes it (by e-mail when `mail` says so). */
function newEntry (ticket: Pick<TicketRow, 'id'>, kind: EntryKind, actor: Actor, body: string, at: number, mail?: MailOrigin): Omit<EntryRow, 'id'> {
  return {
    ticket_id: ticket.id,
    kind,
    agent_id: actor.kind === 'agent' ? actor.access.id : null,
    requester_id: actor.kind === 'requester' ? actor.requesterId : null,
    body,
    created_at: at,
    message_id: mail?.messageId ?? null,
    original_body: mail?.originalBody ?? null,
    original_html: mail?.html ?? null,
    body_shortened: mail?.shortened ?? false
  }
}

/** What a new ticket's row holds before anything has happened to it (the database's defaults). */
const notYetColumns = {
  answered: false, merged_into_id: null, first_response_at: null, resolved_at: null, closed_at: null, due_at: null, deleted_at: null, deleted_by: null
} as const

/** How often a ticket page view refreshes the agent's "also viewing" mark (shown for 60 s). */
const viewerMarkRefreshMs = 15_000

/**
 * The verbs of a ticket's life. Each takes the ticket the request loaded and authorised
 * (`verb(ticket, actor, input)`), checks the rule in `permissions.ts`, answers a change
 * that would change nothing calmly without recording anything, and otherwise runs in one
 * transaction that writes the change, its event and its notices. Where a concurrent change
 * would make the decision wrong, the update is conditional on what was decided on.
 */
export function createLifecycle (db: Knex, options: LifecycleOptions) {
  const now = options.now ?? Date.now
  // When this instance last marked each agent as viewing each ticket.
  const viewerMarks = new Map<string, number>()

  /**
   * Every verb's writes, events and notices are statements of its transaction, so the
   * database's deadlock victim (MariaDB, PostgreSQL) simply runs again.
   */
  async function transaction<T> (work: (trx: Knex.Transaction) => Promise<T>, config?: Knex.TransactionConfig): Promise<T> {
    return await transactionRetryingDeadlocks(db, work, { config })
  }

  async function record (trx: Db, ticket: TicketRow, actor: Actor, type: EventType, before: unknown, after: unknown, at: number, ticketNow?: TicketRow): Promise<void> {
    await recordEvent(trx, ticket.id, actor, type, before, after, at, ticketNow)
  }

  /** May this actor do this to the ticket at all? A ticket out of reach is not found. */
  function authorise (actor: Actor, ticket: TicketRow, action: StaffAction | ClientAction): void {
    const byClient = action === 'clientReply' || action === 'confirmSolved' || action === 'clientReopen'
    if (actor.kind === 'system') return
    if (actor.kind === 'requester') {
      if (!byClient || actor.requesterId !== ticket.requester_id) throw notFound('That ticket')
      return
    }
    if (byClient) throw notFound('That ticket')
    assertRole(actor.access, ticket, action)
  }

  /** Applies `patch` only while the columns named in `decidedOn` still hold what the verb saw. */
  async function updateUnlessChanged (trx: Db, ticket: TicketRow, decidedOn: ReadonlyArray<keyof TicketRow>, patch: Partial<TicketRow>): Promise<TicketRow> {
    const unchanged: Partial<TicketRow> = {}
    for (const column of decidedOn) Object.assign(unchanged, { [column]: ticket[column] })
    if (!await updateTicketIf(trx, ticket.id, unchanged, patch)) {
      throw new TesseraError('TESSERA_CONFLICT', 'Someone else changed this ticket a moment ago, so nothing was done. Look at it again, then decide.')
    }
    return { ...ticket, ...patch }
  }

  async function changeStatus (trx: Db, ticket: TicketRow, actor: Actor, status: TicketStatus, at: number, extra: Partial<TicketRow> = {}): Promise<TicketRow> {
    const patch: Partial<TicketRow> = { status, last_activity_at: at, ...extra }
    if (status === 'resolved') patch.resolved_at = at
    if (status === 'closed') patch.closed_at = at
    if (status === 'open') { patch.resolved_at = null; patch.closed_at = null }
    const changed = await updateUnlessChanged(trx, ticket, ['status'], patch)
    await record(trx, ticket, actor, 'status_changed', { status: ticket.status }, { status }, at)
    await slaStatusChanged(trx, ticket.id, ticket.status, status, at)
    return changed
  }

  async function requesterOf (trx: Db, ticket: LoadedTicket): Promise<{ name: string, email: string }> {
    if (ticket.requester_name !== undefined && ticket.requester_email !== undefined) return { name: ticket.requester_name, email: ticket.requester_email }
    const requester = await findRequester(trx, ticket.requester_id)
    if (!requester) throw notFound('The requester')
    return requester
  }

  /** One new ticket asked for: what, when, and which try this is (a retry draws its number from a wider range). */
  interface Opening { input: NewTicketInput & { follows?: Pick<TicketRow, 'id' | 'number'> }, at: number, attempt: number }

  /** What openings read before anything of theirs can be written: their topics, who is known already, numbers still free. */
  interface FirstReads { topics: Map<number, NewTicketTopic>, known: Map<string, RequesterRow>, numbers: string[] }

  async function readFirst (reader: Db, openings: readonly Opening[]): Promise<FirstReads> {
    const attempts = openings.map((opening) => opening.attempt)
    const drawn = attempts.map((attempt) => randomTicketNumber(attempt))
    // One statement on SQLite (see readLists).
    const { topics, known, taken } = await readLists(reader, {
      topics: helpTopicsList(reader, openings.map((opening) => opening.input.helpTopicId)),
      known: requestersByEmailList(reader, openings.map((opening) => opening.input.email)),
      taken: takenNumbersList(reader, drawn)
    })
    return { topics, known, numbers: await freeNumbers(reader, drawn, attempts, taken) }
  }

  /**
   * Opens new tickets in the caller's transaction, together: each step is one statement for
   * all of them (topics, requesters, the tickets, their first messages, events and counters,
   * links, notices), and what only some need (files, routing, an agent's first entry)
   * follows ticket by ticket. Answers each opening in its place: the ticket, or the
   * TesseraError that opening alone gets (a topic not offered, a department out of reach).
   *
   * What it only reads, it reads from `reader`: the transaction itself, or, for a batch
   * (openTogether), the database beside it, where the reads need not wait their turn behind
   * the writes (on SQLite they run on the reader connections) and the first of them (`first`)
   * runs while the transaction begins. What a read outside could miss (a requester, a number
   * or a submission another writer committed a moment before) the unique indexes catch: the
   * batch fails, and each opening is tried again alone, reading inside its transaction.
   */
  async function createTickets (trx: Db, openings: readonly Opening[], reader: Db = trx, first: Promise<FirstReads> = readFirst(reader, openings)): Promise<Array<OpenedTicket | TesseraError>> {
    const results: Array<OpenedTicket | TesseraError> = []
    // Each step sends every statement that does not wait on another's answer at once: the
    // batch holds SQLite's one writer, and each step costs a round trip to its thread.
    const { topics, known, numbers } = await first
    const once = memo()
    const departmentOf = async (id: number): Promise<DepartmentDetail | undefined> => await once(String(id), async () => await findDepartment(reader, id))
    const accepted: Array<{ index: number, opening: Opening, topic: HelpTopicRow & { priority: number }, departmentId: number, priority: number }> = []
    for (const [index, opening] of openings.entries()) {
      const { input } = opening
      const topic = topics.get(input.helpTopicId)
      // A follow-up keeps its old ticket's topic, even one retired since.
      const offered = topic !== undefined && (input.follows !== undefined || (topic.active && !topic.department_archived))
      if (!offered || (input.fromPortal === true && !topic.public)) {
        results[index] = new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the help topics listed.')
        continue
      }
      const departmentId = input.departmentId ?? topic.department_id
      try {
        if (input.onBehalf) assertRole(input.onBehalf.actor.access, { department_id: departmentId, assignee_id: null }, 'reply')
      } catch (err) {
        if (!(err instanceof TesseraError)) throw err
        results[index] = err
        continue
      }
      // A topic without a priority of its own leaves it to the department the ticket lands in.
      const priority = departmentId === topic.department_id || topic.default_priority !== null
        ? topic.priority
        : (await departmentOf(departmentId))?.default_priority ?? topic.priority
      accepted.push({ index, opening, topic, departmentId, priority })
    }
    if (accepted.length === 0) return results

    // The same form again (a double click, a retry after a timeout) finds the ticket it
    // opened: answered with a fresh link for this browser, and nothing sent twice. Only a
    // requester known before this batch can have sent a form before it.
    const sentBefore = accepted.filter(({ opening }) => opening.input.submissionId !== undefined && known.has(opening.input.email))
    // Routing is read for every accepted opening, replays too, so it can be read beside the
    // rest; only new tickets take a turn.
    const unassigned = accepted.filter(({ opening }) => !opening.input.onBehalf?.assignment)
    const [requesters, { earlier, plans, members, enabled }, [candidates, assignees]] = await allInTransaction([
      createMissingRequesters(trx, accepted.map(({ opening }) => opening.input), known, Math.min(...accepted.map(({ opening }) => opening.at))),
      // One statement on SQLite (see readLists).
      readLists(reader, {
        earlier: ticketsBySubmissionList(reader, sentBefore.map(({ opening }) => ({ requesterId: known.get(opening.input.email)!.id, submissionId: opening.input.submissionId! }))),
        plans: newTicketPlansList(reader, accepted.map(({ topic, departmentId }) => ({ help_topic_id: topic.id, department_id: departmentId }))),
        ...newTicketRecipientsLists(reader, accepted.map(({ departmentId }) => departmentId))
      }),
      // With the agents it may assign, whom the assignment notices name.
      routingCandidates(reader, unassigned.map(({ topic, departmentId }) => ({ department_id: departmentId, topic })), Math.max(...accepted.map(({ opening }) => opening.at)))
        .then(async (candidates) => [candidates, await findAgents(reader, candidates.flatMap(candidateAgents))] as const)
    ])
    const recipients = { members, enabled }
    const planOf = new Map(accepted.map((entry, i) => [entry, plans[i]]))
    const requesterOfOpening = (opening: Opening): RequesterRow => requesters.get(opening.input.email)!
    const submissionKey = (opening: Opening): string | undefined =>
      opening.input.submissionId === undefined ? undefined : `${requesterOfOpening(opening).id}:${opening.input.submissionId}`
    const submitted = new Map<string, TicketRow>()
    for (const ticket of earlier) submitted.set(`${ticket.requester_id}:${ticket.submission_id ?? ''}`, ticket)
    const fresh: typeof accepted = []
    const replays: typeof accepted = []
    const firstOfSubmission = new Set<string>()
    for (const entry of accepted) {
      const key = submissionKey(entry.opening)
      if (key !== undefined && (submitted.has(key) || firstOfSubmission.has(key))) replays.push(entry)
      else fresh.push(entry)
      if (key !== undefined) firstOfSubmission.add(key)
    }

    // The topic's routing places each ticket, unless the agent opening it chose who works it.
    const candidateOf = new Map(unassigned.map((entry, i) => [entry, candidates[i]!]))
    const byTopic = fresh.filter((entry) => candidateOf.has(entry))
    const decided = await takeTurns(trx, byTopic.map((entry) => candidateOf.get(entry)!))
    const routing = new Map(byTopic.map((entry, i) => [entry, decided[i]!]))
    const fields: Array<Omit<TicketRow, 'id'>> = []
    const clocks: Array<ReturnType<typeof startClocks> | undefined> = []
    for (const entry of fresh) {
      const { opening, topic, departmentId, priority } = entry
      const { input, at } = opening
      const plan = planOf.get(entry)
      clocks.push(plan ? startClocks(plan, at) : undefined)
      fields.push({
        number: numbers[entry.index]!,
        subject: input.subject,
        status: 'open',
        priority: input.onBehalf?.priority ?? priority,
        department_id: departmentId,
        help_topic_id: topic.id,
        requester_id: requesterOfOpening(opening).id,
        assignee_id: routing.get(entry)?.assigneeId ?? null,
        team_id: routing.get(entry)?.teamId ?? null,
        follows_ticket_id: input.follows?.id ?? null,
        requester_name_given: input.name,
        submission_id: input.submissionId ?? null,
        source: input.source ?? 'web',
        created_at: at,
        last_activity_at: at,
        ...notYetColumns
      })
    }
    const ids = await insertTickets(trx, fields.map((row, i) => ({ ...row, ...clocks[i]?.columns })))
    const tickets: TicketRow[] = fields.map((row, i) => ({ id: ids[i]!, ...row }))
    for (const [i, ticket] of tickets.entries()) {
      const key = submissionKey(fresh[i]!.opening)
      if (key !== undefined) submitted.set(key, ticket)
    }

    const actorOf = (opening: Opening): Actor => ({ kind: 'requester', requesterId: requesterOfOpening(opening).id })
    // Counted as it arrived, then moved by its routing: the counters see both steps (report-counts.ts).
    const arrived = (ticket: TicketRow): TicketRow => ({ ...ticket, assignee_id: null, team_id: null })
    const eventsOf = (entry: typeof fresh[number], i: number): TicketEvent[] => {
      const ticket = tickets[i]!
      const { input, at } = entry.opening
      const after = { status: 'open', department_id: ticket.department_id, follows: input.follows?.id ?? null, follows_number: input.follows?.number ?? null, source: ticket.source }
      const events: TicketEvent[] = [{ ticketId: ticket.id, actor: input.onBehalf?.actor ?? actorOf(entry.opening), type: 'created', before: null, after, at, ticketNow: arrived(ticket) }]
      const clock = clocks[i]
      if (clock) events.push({ ticketId: ticket.id, actor: systemActor, type: 'sla', before: null, after: clock.event, at, ticketNow: arrived(ticket) })
      const decision = routing.get(entry)
      if (decision && (decision.assigneeId !== null || decision.teamId !== null)) {
        const target = { assignee_id: decision.assigneeId, team_id: decision.teamId }
        const rule = decision.rule === null ? {} : { rule: decision.rule, strategy: decision.strategy }
        events.push({ ticketId: ticket.id, actor: systemActor, type: 'assigned', before: { assignee_id: null, team_id: null }, after: { ...target, ...rule }, at, ticketNow: ticket })
      }
      return events
    }
    const assignmentNotices = fresh.flatMap((entry, i) => {
      const decision = routing.get(entry)
      const ticket = tickets[i]!
      if (!decision || (decision.assigneeId === null && decision.teamId === null)) return []
      // An agent picked by the team's strategy is told; the rest of the team is not.
      const before = decision.strategy === 'round_robin' || decision.strategy === 'fewest_open' ? { ...arrived(ticket), team_id: ticket.team_id } : arrived(ticket)
      return [{ before, after: ticket, actor: systemActor, at: entry.opening.at }]
    })
    const opened = [...fresh.map((entry, i) => ({ entry, ticket: tickets[i]!, replayed: false })), ...replays.map((entry) => ({ entry, ticket: submitted.get(submissionKey(entry.opening)!)!, replayed: true }))]
    const links = opened.map(() => newAccessToken())
    const receipt = (input: Opening['input']): boolean => input.noReceipt !== true && input.onBehalf?.notify !== false
    // What follows needs the tickets, not each other: sent at once, the statements queue on
    // the transaction's connection instead of each waiting for a turn of the event loop.
    await allInTransaction([
      (async () => {
        const entryIds = await insertFirstMessages(trx, fresh.map(({ opening }, i) => newEntry(tickets[i]!, 'message', actorOf(opening), opening.input.message, opening.at, opening.input.mail)))
        for (const [i, { opening }] of fresh.entries()) await insertAttachments(trx, entryIds[i]!, opening.input.files ?? [], opening.at)
      })(),
      recordEvents(trx, fresh.flatMap(eventsOf)),
      insertAccessTokens(trx, opened.map(({ entry, ticket }, i) => ({ ticketId: ticket.id, tokenHash: links[i]!.hash, at: entry.opening.at }))),
      noticeNewTickets(trx, recipients, fresh.map(({ opening }, i) => ({ ticket: tickets[i]!, requester: requesterOfOpening(opening), message: opening.input.message, at: opening.at, receipt: receipt(opening.input) }))),
      noticeTicketsAssigned(trx, assignmentNotices, { agents: assignees, enabled: recipients.enabled })
    ])

    for (const [i, { entry, ticket, replayed }] of opened.entries()) {
      const accessToken = links[i]!.token
      if (replayed) {
        results[entry.index] = { ticket, accessToken, replayed: true }
        continue
      }
      const { input, at } = entry.opening
      const onBehalf = input.onBehalf
      if (!onBehalf) {
        results[entry.index] = { ticket, accessToken }
        continue
      }
      const placed = onBehalf.assignment ? await assignOnOpening(trx, ticket, onBehalf.actor, onBehalf.assignment, at) : ticket
      results[entry.index] = { ticket: await addFirstEntry(trx, placed, requesterOfOpening(entry.opening), onBehalf, at), accessToken }
    }
    return results
  }

  /**
   * A ticket number for each new ticket, none taken: drawn at random (so numbers say nothing
   * about the desk's size), those already used drawn again; `firstTaken` says which of the
   * first draw are. Another instance may take one in the meantime; the unique index then
   * fails the transaction, which is retried.
   */
  async function freeNumbers (trx: Db, numbers: string[], attempts: readonly number[], firstTaken: Set<string>): Promise<string[]> {
    for (let round = 0; numbers.length > 0; round++) {
      const taken = round === 0 ? firstTaken : await takenNumbers(trx, numbers)
      const seen = new Set<string>()
      const clash = numbers.map((number) => {
        const again = taken.has(number) || seen.has(number)
        seen.add(number)
        return again
      })
      if (!clash.includes(true) || round >= 8) break
      clash.forEach((again, i) => { if (again) numbers[i] = randomTicketNumber(attempts[i]! + 3 * (round + 1)) })
    }
    return numbers
  }

  /** The agent opening a ticket names who works it; checked as a hand assignment is. */
  async function assignOnOpening (trx: Db, ticket: TicketRow, actor: AgentActor, target: { agentId: number | null, teamId: number | null }, at: number): Promise<TicketRow> {
    if (target.agentId !== null) await requireAssignable(trx, target.agentId, ticket.department_id)
    if (target.teamId !== null && !await findTeam(trx, target.teamId)) throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the teams listed.')
    const patch = { assignee_id: target.agentId, team_id: target.teamId }
    if (patch.assignee_id === null && patch.team_id === null) return ticket
    await updateTicket(trx, ticket.id, patch)
    const assigned = { ...ticket, ...patch }
    await record(trx, ticket, actor, 'assigned', { assignee_id: null, team_id: null }, patch, at)
    await noticeTicketAssigned(trx, ticket, assigned, actor, at)
    return assigned
  }

  /** A reply or an internal note written in the same step as the ticket; a reply is mailed only when the requester is told. */
  async function addFirstEntry (trx: Db, ticket: TicketRow, requester: { name: string, email: string }, onBehalf: OnBehalf, at: number): Promise<TicketRow> {
    const first = onBehalf.firstEntry
    if (!first) return ticket
    await addEntry(trx, ticket, first.kind, onBehalf.actor, first.body, at)
    if (first.kind === 'note') {
      await record(trx, ticket, onBehalf.actor, 'note_added', null, null, at)
      return ticket
    }
    const answered = { ...ticket, answered: true, first_response_at: at }
    await updateTicket(trx, ticket.id, { answered: true, first_response_at: at })
    await record(trx, ticket, onBehalf.actor, 'replied', null, { first_response: true }, at, answered)
    if (onBehalf.notify) await noticeAgentResponse(trx, answered, requester, onBehalf.actor.access.name, first.body, at)
    return answered
  }

  /** One opening in a transaction of its own, retried with a fresh number when another instance took its number meanwhile. */
  async function openAlone (opening: Opening): Promise<OpenedTicket> {
    for (let attempt = opening.attempt; ; attempt++) {
      try {
        const [result] = await transaction(async (trx) => await createTickets(trx, [{ ...opening, attempt }]), readingLatestCommits(db))
        if (result instanceof Error) throw result
        return result!
      } catch (err) {
        if (attempt >= 8 || !isUniqueViolation(err)) throw err
      }
    }
  }

  // New tickets arriving together are opened in one transaction (group commit).
  const openTogether = groupCommit<Opening, OpenedTicket>(async (openings) => {
    try {
      const first = readFirst(db, openings)
      // Awaited inside the transaction; this only keeps a failure from going unheard when the transaction cannot begin.
      first.catch(() => undefined)
      return await transaction(async (trx) => await createTickets(trx, openings, db, first), readingLatestCommits(db))
    } catch (err) {
      if (openings.length === 1 && !isUniqueViolation(err)) return [asError(err)]
      // What failed the batch fails only its own opening now.
      return await Promise.all(openings.map(async (opening) => await openAlone({ ...opening, attempt: opening.attempt + 1 }).catch(asError)))
    }
  })

  async function insertNewTicket (input: NewTicketInput & { follows?: Pick<TicketRow, 'id' | 'number'> }, at: number): Promise<OpenedTicket> {
    return await openTogether({ input, at, attempt: 0 })
  }

  const reopenWindowMs = async (): Promise<number> =>
    typeof options.reopenWindowMs === 'number' ? options.reopenWindowMs : await options.reopenWindowMs()

  /** Whether a client reply reopens this ticket, rather than starting a follow-up. */
  function replyReopens (ticket: Pick<TicketRow, 'status' | 'closed_at'>, at: number, windowMs: number): boolean {
    return ticket.status !== 'closed' || (ticket.closed_at ?? 0) + windowMs >= at
  }

  async function addEntry (trx: Db, ticket: TicketRow, kind: EntryKind, actor: Actor, body: string, at: number, mail?: MailOrigin, files: readonly StoredFile[] = []): Promise<number> {
    const entryId = await insertEntry(trx, newEntry(ticket, kind, actor, body, at, mail))
    await insertAttachments(trx, entryId, files, at)
    return entryId
  }

  /** The Assign lists' rule, enforced: what a list leaves out is refused when posted anyway. */
  async function requireAssignable (trx: Db, agentId: number, departmentId: number): Promise<void> {
    if (!await isAssignable(trx, agentId, departmentId)) {
      throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose an agent who works in this ticket’s department.')
    }
  }

  /**
   * A status change by an agent (or Tessera): already there is a calm no-op; otherwise the
   * lifecycle must allow it from the current status. `then` adds what follows (notices).
   */
  async function moveTo (ticket: LoadedTicket, actor: Actor, action: StaffAction, status: TicketStatus,
    then?: (trx: Db, changed: TicketRow, at: number) => Promise<void>): Promise<TicketRow> {
    authorise(actor, ticket, action)
    if (ticket.status === status) return ticket
    assertTransition(action, ticket.status)
    return await transaction(async (trx) => {
      const at = now()
      const changed = await changeStatus(trx, ticket, actor, status, at)
      await then?.(trx, changed, at)
      return changed
    })
  }

  const lifecycle = {
    now,

    /** For the client page: does replying now reopen this ticket? */
    replyReopens: async (ticket: Pick<TicketRow, 'status' | 'closed_at'>): Promise<boolean> => replyReopens(ticket, now(), await reopenWindowMs()),

    async openTicket (input: NewTicketInput): Promise<OpenedTicket> {
      return await insertNewTicket(input, now())
    },

    /**
     * The requester writes again. Resolved or pending tickets go back to open; a closed one
     * reopens within the reopen window, after it a new ticket is opened that follows the old.
     */
    async addClientReply (ticket: LoadedTicket, actor: Actor, input: { body: string, mail?: MailOrigin, files?: readonly StoredFile[] }): Promise<{ number: string, followUp: OpenedTicket | null }> {
      authorise(actor, ticket, 'clientReply')
      if (ticket.deleted_at !== null) throw notFound('That ticket')
      const at = now()
      // Read before the transaction: on SQLite its one connection is the transaction's.
      const windowMs = await reopenWindowMs()
      const outcome = await transaction(async (trx): Promise<{ landedOn: TicketRow } | { followUpOf: TicketRow }> => {
        // A merged ticket stays merged: the reply goes where its thread went.
        const target = await mergeDestination(trx, ticket)
        const own = !mergeCrossesRequesters(ticket, target)
        if (target.deleted_at !== null || (own ? !replyReopens(target, at, windowMs) : target.status === 'closed')) {
          return { followUpOf: own && target.deleted_at === null ? target : ticket }
        }
        const entryId = await insertEntry(trx, {
          ...newEntry(target, 'message', actor, input.body, at, input.mail),
          merged_from_id: target.id === ticket.id ? null : ticket.id,
          staff_only: !own
        })
        await insertAttachments(trx, entryId, input.files ?? [], at)
        await record(trx, target, actor, 'client_replied', null, target.id === ticket.id ? null : { via: ticket.number }, at)
        // Someone else's message needs an agent, but must not change what the target's
        // requester sees: their ticket keeps its status.
        if (own && target.status !== 'open') await changeStatus(trx, target, actor, 'open', at, { answered: false })
        else await updateTicket(trx, target.id, { last_activity_at: at, answered: false })
        await noticeClientMessage(trx, target, input.body, at)
        return { landedOn: target }
      })
      if ('landedOn' in outcome) return { number: outcome.landedOn.number, followUp: null }
      const followUpOf = outcome.followUpOf
      const requester = await requesterOf(db, followUpOf.id === ticket.id ? ticket : followUpOf)
      const followUp = await insertNewTicket({
        name: requester.name,
        email: requester.email,
        subject: followUpOf.subject,
        message: input.body,
        helpTopicId: followUpOf.help_topic_id ?? 0,
        follows: followUpOf,
        mail: input.mail,
        files: input.files,
        source: input.mail ? 'email' : 'web'
      }, at)
      return { number: followUp.ticket.number, followUp }
    },

    /** "This solved my problem": closes a resolved ticket; said twice, it is simply closed. */
    async confirmSolved (ticket: LoadedTicket, actor: Actor): Promise<TicketRow> {
      authorise(actor, ticket, 'confirmSolved')
      if (ticket.status === 'closed') return ticket
      assertTransition('confirmSolved', ticket.status)
      return await transaction(async (trx) => {
        const at = now()
        const changed = await changeStatus(trx, ticket, actor, 'closed', at)
        await startSurvey(trx, changed, at, { closedNotice: false })
        return changed
      })
    },

    /** The requester asks, from the survey, for another look at their closed ticket. */
    async clientReopen (ticket: LoadedTicket, actor: Actor): Promise<TicketRow> {
      authorise(actor, ticket, 'clientReopen')
      if (ticket.deleted_at !== null) throw notFound('That ticket')
      assertNotMerged('reopen', ticket)
      if (ticket.status === 'open') return ticket
      assertTransition('clientReopen', ticket.status)
      return await transaction(async (trx) => {
        const at = now()
        const changed = await changeStatus(trx, ticket, actor, 'open', at, { answered: false })
        await noticeClientMessage(trx, changed, 'The requester reopened the ticket from the satisfaction survey.', at)
        return changed
      })
    },

    /** Queues a fresh private link when e-mail and number match; silent either way. */
    async sendAccessLink (email: string, number: string): Promise<void> {
      await transaction(async (trx) => {
        const ticket = await findTicketByNumber(trx, number)
        if (!ticket || ticket.deleted_at !== null) return
        const requester = await findRequester(trx, ticket.requester_id)
        if (!requester || requester.email !== email) return
        const at = now()
        await noticeAccessLink(trx, ticket, requester, at)
      })
    },

    /** An agent has the ticket on screen now (for "also viewing"). */
    async recordViewer (ticket: TicketRow, actor: AgentActor): Promise<void> {
      assertRole(actor.access, ticket, 'read')
      const at = now()
      // A page view would otherwise be a write (a commit) every time; presence is shown for
      // a minute, so refreshing the mark now and then is enough, on any instance.
      const key = `${ticket.id}:${actor.access.id}`
      const last = viewerMarks.get(key)
      if (last !== undefined && at >= last && at - last < viewerMarkRefreshMs) return
      if (viewerMarks.size >= 10_000) viewerMarks.clear()
      viewerMarks.set(key, at)
      await touchViewer(db, ticket.id, actor.access.id, at)
    },

    /**
     * An agent answers the requester. `seenEntryId` is the newest entry the agent had on
     * screen: if anyone else has written since, nothing is sent and the agent decides again.
     */
    async addResponse (ticket: LoadedTicket, actor: AgentActor, input: { body: string, seenEntryId?: number, signature?: SignatureChoice, copyParticipants?: boolean, files?: readonly StoredFile[] }): Promise<number> {
      authorise(actor, ticket, 'reply')
      assertTransition('reply', ticket.status)
      return await transaction(async (trx) => {
        if (input.seenEntryId !== undefined && await findEntryAfter(trx, ticket.id, input.seenEntryId, actor.access.id)) {
          throw new TesseraError('TESSERA_CONFLICT', 'Someone else wrote on this ticket while you were typing, so your reply was not sent. Read the new message above, then send your reply again.')
        }
        const at = now()
        const body = await signReply(trx, actor.access.id, ticket.department_id, input.body, input.signature ?? 'none')
        const entryId = await addEntry(trx, ticket, 'response', actor, body, at, undefined, input.files)
        const answered = { ...ticket, answered: true, last_activity_at: at, first_response_at: ticket.first_response_at ?? at }
        await updateTicket(trx, ticket.id, { answered: true, last_activity_at: at, first_response_at: answered.first_response_at })
        await record(trx, ticket, actor, 'replied', null, ticket.first_response_at === null ? { first_response: true } : null, at, answered)
        if (ticket.first_response_at === null) await slaFirstResponse(trx, ticket.id, at)
        await noticeAgentResponse(trx, ticket, await requesterOf(trx, ticket), actor.access.name, body, at, input.files)
        if (input.copyParticipants === true) await copyReplyToParticipants(trx, ticket, actor.access.name, body, at)
        return entryId
      })
    },

    async addNote (ticket: TicketRow, actor: AgentActor, input: { body: string, mail?: MailOrigin, files?: readonly StoredFile[] }): Promise<number> {
      authorise(actor, ticket, 'note')
      assertTransition('note', ticket.status)
      return await transaction(async (trx) => {
        const at = now()
        const entryId = await addEntry(trx, ticket, 'note', actor, input.body, at, input.mail, input.files)
        await updateTicket(trx, ticket.id, { last_activity_at: at })
        await record(trx, ticket, actor, 'note_added', null, null, at)
        return entryId
      })
    },

    /** Names the agent and/or team that works the ticket; nobody and no team is allowed too. */
    async assignTicket (ticket: TicketRow, actor: Actor, target: { agentId: number | null, teamId: number | null }): Promise<TicketRow> {
      authorise(actor, ticket, 'assign')
      if (target.agentId === ticket.assignee_id && target.teamId === ticket.team_id) return ticket
      assertTransition('assign', ticket.status)
      return await transaction(async (trx) => {
        if (target.agentId !== null && target.agentId !== ticket.assignee_id) await requireAssignable(trx, target.agentId, ticket.department_id)
        if (target.teamId !== null && target.teamId !== ticket.team_id && !await findTeam(trx, target.teamId)) {
          throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the teams listed.')
        }
        const at = now()
        const changed = await updateUnlessChanged(trx, ticket, ['status', 'assignee_id', 'team_id'],
          { assignee_id: target.agentId, team_id: target.teamId, last_activity_at: at })
        await record(trx, ticket, actor, 'assigned',
          { assignee_id: ticket.assignee_id, team_id: ticket.team_id },
          { assignee_id: target.agentId, team_id: target.teamId }, at)
        await noticeTicketAssigned(trx, ticket, changed, actor, at)
        return changed
      })
    },

    /** The agent takes the ticket for themselves. */
    async claimTicket (ticket: TicketRow, actor: AgentActor): Promise<TicketRow> {
      authorise(actor, ticket, 'claim')
      if (ticket.assignee_id === actor.access.id) return ticket
      assertTransition('claim', ticket.status)
      return await transaction(async (trx) => {
        const at = now()
        const changed = await updateUnlessChanged(trx, ticket, ['status', 'assignee_id'], { assignee_id: actor.access.id, last_activity_at: at })
        await record(trx, ticket, actor, 'claimed', { assignee_id: ticket.assignee_id }, { assignee_id: actor.access.id }, at)
        return changed
      })
    },

    /** Nobody and no team works the ticket any more. */
    async releaseTicket (ticket: TicketRow, actor: Actor): Promise<TicketRow> {
      authorise(actor, ticket, 'release')
      if (ticket.assignee_id === null && ticket.team_id === null) return ticket
      assertTransition('release', ticket.status)
      return await transaction(async (trx) => {
        const at = now()
        const changed = await updateUnlessChanged(trx, ticket, ['status', 'assignee_id', 'team_id'], { assignee_id: null, team_id: null, last_activity_at: at })
        await record(trx, ticket, actor, 'released', { assignee_id: ticket.assignee_id, team_id: ticket.team_id }, { assignee_id: null, team_id: null }, at)
        return changed
      })
    },

    async transferTicket (ticket: TicketRow, actor: Actor, input: { departmentId: number }): Promise<TicketRow> {
      authorise(actor, ticket, 'transfer')
      if (input.departmentId === ticket.department_id) return ticket
      assertTransition('transfer', ticket.status)
      return await transaction(async (trx) => {
        const department = await findDepartment(trx, input.departmentId)
        if (!department || department.archived_at !== null) throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the active departments listed.')
        const at = now()
        const changed = await updateUnlessChanged(trx, ticket, ['status', 'department_id'], { department_id: input.departmentId, last_activity_at: at })
        await record(trx, ticket, actor, 'transferred', { department_id: ticket.department_id }, { department_id: input.departmentId }, at)
        await noticeTicketTransferred(trx, changed, actor, at)
        return changed
      })
    },

    async changePriority (ticket: TicketRow, actor: Actor, input: { priority: number }): Promise<TicketRow> {
      if (!isPriority(input.priority)) throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the priorities listed.')
      authorise(actor, ticket, 'changePriority')
      if (input.priority === ticket.priority) return ticket
      assertTransition('changePriority', ticket.status)
      return await transaction(async (trx) => {
        const at = now()
        const changed = await updateUnlessChanged(trx, ticket, ['status', 'priority'], { priority: input.priority, last_activity_at: at })
        await record(trx, ticket, actor, 'priority_changed', { priority: ticket.priority }, { priority: input.priority }, at)
        return changed
      })
    },

    async setPending (ticket: LoadedTicket, actor: Actor): Promise<TicketRow> {
      return await moveTo(ticket, actor, 'setPending', 'pending')
    },

    async resolveTicket (ticket: LoadedTicket, actor: Actor): Promise<TicketRow> {
      return await moveTo(ticket, actor, 'resolve', 'resolved', async (trx, changed, at) => {
        await noticeTicketResolved(trx, changed, await requesterOf(trx, ticket), at)
      })
    },

    async closeTicket (ticket: LoadedTicket, actor: Actor): Promise<TicketRow> {
      return await moveTo(ticket, actor, 'close', 'closed', async (trx, changed, at) => {
        const requester = await requesterOf(trx, ticket)
        await noticeTicketClosed(trx, changed, requester, at, await startSurvey(trx, changed, at, { closedNotice: true, requester }))
      })
    },

    async reopenTicket (ticket: LoadedTicket, actor: Actor): Promise<TicketRow> {
      assertNotMerged('reopen', ticket)
      return await moveTo(ticket, actor, 'reopen', 'open')
    },

    /** The verb that leads to a status, for lists that offer statuses (bulk actions). */
    async setStatus (ticket: LoadedTicket, actor: Actor, status: TicketStatus): Promise<TicketRow> {
      switch (status) {
        case 'open': return await lifecycle.reopenTicket(ticket, actor)
        case 'pending': return await lifecycle.setPending(ticket, actor)
        case 'resolved': return await lifecycle.resolveTicket(ticket, actor)
        case 'closed': return await lifecycle.closeTicket(ticket, actor)
        default: throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the statuses listed.')
      }
    },

    /**
     * Moves the whole thread into `target` and closes this ticket with a pointer to it. It
     * takes a manager on this ticket and someone who can work the target (finding 6: a
     * view-only role there is not enough). Across two requesters the moved entries stay with
     * staff; the merged ticket's requester is told where their request went either way.
     */
    async mergeTicket (ticket: TicketRow, actor: Actor, input: { target: TicketRow }): Promise<TicketRow> {
      const { target } = input
      if (ticket.id === target.id) throw new TesseraError('TESSERA_INVALID_INPUT', 'A ticket cannot be merged into itself.')
      authorise(actor, ticket, 'merge')
      assertTransition('merge', ticket.status)
      if (actor.kind === 'agent') {
        if (roleOn(actor.access, target) === null || target.deleted_at !== null) throw new TesseraError('TESSERA_INVALID_INPUT', 'There is no ticket with that number.')
        if (!hasRole(actor.access, target, mergeTargetRole)) {
          throw new TesseraError('TESSERA_FORBIDDEN', `Your role in the department of ticket ${target.number} does not allow merging into it.`)
        }
      }
      return await transaction(async (trx) => {
        assertMergeable(ticket, target, await mergeDestination(trx, target))
        const at = now()
        const crosses = mergeCrossesRequesters(ticket, target)
        const changed = await updateUnlessChanged(trx, ticket, ['status', 'merged_into_id'], { status: 'closed', closed_at: at, merged_into_id: target.id, last_activity_at: at })
        await moveThread(trx, ticket.id, target.id, crosses)
        await repointMerges(trx, ticket.id, target.id)
        await updateTicket(trx, target.id, { last_activity_at: at })
        await record(trx, ticket, actor, 'merged', { status: ticket.status }, { status: 'closed', merged_into: target.number, across_requesters: crosses }, at)
        await record(trx, target, actor, 'merged_in', null, { from: ticket.number, across_requesters: crosses }, at)
        await carryParticipantsOnMerge(trx, ticket, target, actor, at)
        const requester = await requesterOf(trx, ticket)
        // Into their own other ticket: a link to it. Into someone else's: only that it was
        // merged, with their own ticket's link, where their conversation stays readable.
        if (crosses) await noticeTicketMerged(trx, ticket, requester, null, at)
        else await noticeTicketMerged(trx, target, requester, ticket.number, at)
        return changed
      })
    },

    /** Moves the ticket to the trash, where a manager can restore it for 30 days. */
    async deleteTicket (ticket: TicketRow, actor: Actor): Promise<void> {
      authorise(actor, ticket, 'delete')
      if (ticket.deleted_at !== null) return
      await transaction(async (trx) => {
        const at = now()
        if (!await markTicketDeleted(trx, ticket.id, actor.kind === 'agent' ? actor.access.id : null, at)) return
        await record(trx, ticket, actor, 'deleted', null, { purge_after: purgeDueAt(at) }, at)
      })
    },

    /** Takes the ticket out of the trash, as it was; calm when it is not in the trash. */
    async restoreTicket (ticket: TicketRow, actor: Actor): Promise<void> {
      authorise(actor, ticket, 'delete')
      if (ticket.deleted_at === null) return
      const at = now()
      if (!restorable(ticket, at)) {
        throw new TesseraError('TESSERA_TRANSITION_REFUSED', `Ticket ${ticket.number} was deleted more than ${trashRetentionDays} days ago and can no longer be restored.`)
      }
      await transaction(async (trx) => {
        await markTicketRestored(trx, ticket.id)
        await record(trx, ticket, actor, 'restored', { deleted_at: ticket.deleted_at, deleted_by: ticket.deleted_by }, null, at)
      })
    },

    /** Deletes for good what has been in the trash longer than the retention; returns how many. */
    async purgeTrash (limit = 100): Promise<number> {
      const cutoff = now() - trashRetentionMs
      let purged = 0
      const released: string[] = []
      for (const id of await listExpiredTrash(db, cutoff, limit)) {
        const files = await transaction(async (trx) => {
          const refs = await listTicketAttachmentRefs(trx, id)
          if (!await purgeTicketRows(trx, id, cutoff)) return null
          await deleteAttachments(trx, refs.map((ref) => ref.id))
          return refs.map((ref) => ref.sha256)
        })
        if (files) { purged++; released.push(...files) }
      }
      if (released.length > 0) await options.releaseFiles?.(released)
      return purged
    }
  }
  return lifecycle
}
