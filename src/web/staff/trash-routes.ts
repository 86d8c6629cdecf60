import type { FastifyInstance } from 'fastify'
import { findTicketByNumber, listTrash } from '../../data/tickets.js'
import { ticketNumberPattern } from '../../domain/access.js'
import { notFound, TesseraError } from '../../domain/errors.js'
import { agentActor } from '../../domain/lifecycle.js'
import { purgeDueAt, trashDepartments, trashRetentionDays } from '../../domain/trash.js'
import { setFlash, takeFlash } from '../cookies.js'

const trashPageSize = 200

/** The trash: deleted tickets a manager may restore until the purge job removes them. */
export default async function trashRoutes (app: FastifyInstance): Promise<void> {
  const { db, lifecycle } = app

  app.get('/staff/trash', async (request, reply) => {
    const departmentIds = trashDepartments(request.agent)
    const rows = await listTrash(db, departmentIds, trashPageSize)
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/trash', {
      agent: request.agent,
      rows: rows.map((row) => ({ ...row, purge_at: purgeDueAt(Number(row.deleted_at)) })),
      departmentIds,
      retentionDays: trashRetentionDays,
      flash: takeFlash(request, reply)
    })
  })

  // Restoring undoes the deletion resource: POST here, so a plain form can do it.
  app.post<{ Params: { number: string } }>('/staff/tickets/:number/restoration', { preValidation: app.csrfProtection }, async (request, reply) => {
    const { number } = request.params
    const ticket = ticketNumberPattern.test(number) ? await findTicketByNumber(db, number) : undefined
    if (!ticket) throw notFound('That ticket')
    try {
      await lifecycle.restoreTicket(ticket, agentActor(request.agent))
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      setFlash(request, reply, err.message)
      return await reply.redirect(app.url('/staff/trash'), 303)
    }
    setFlash(request, reply, `Ticket ${ticket.number} was restored.`)
    return await reply.redirect(app.url(`/staff/tickets/${ticket.number}`), 303)
  })
}
