import t from 'tap'
import { findTicketById } from '../../src/data/tickets.js'
import { mergeDestination } from '../../src/domain/merge.js'
import { testApp } from '../helpers/app.js'

t.test('a merge loop left in older data neither hangs nor loses a client reply', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const open = async (subject: string): Promise<{ id: number, requesterId: number }> => {
    const { ticket } = await app.lifecycle.openTicket({ name: 'Grace Hopper', email: 'grace@example.com', subject, message: 'x', helpTopicId: 1 })
    return { id: ticket.id, requesterId: ticket.requester_id }
  }
  const a = await open('A')
  const b = await open('B')
  const c = await open('C')
  // Written before merges were checked: A into B into C into A.
  await app.db('tickets').where({ id: a.id }).update({ merged_into_id: b.id })
  await app.db('tickets').where({ id: b.id }).update({ merged_into_id: c.id })
  await app.db('tickets').where({ id: c.id }).update({ merged_into_id: a.id })

  t.equal((await mergeDestination(app.db, (await findTicketById(app.db, a.id))!)).id, c.id, 'following the pointers stops where they come round')
  const stale = (await findTicketById(app.db, a.id))!
  await app.lifecycle.addClientReply(stale, { kind: 'requester', requesterId: a.requesterId }, { body: 'Still there?' })
  const landed = await app.db('thread_entries').where({ body: 'Still there?' }).first('ticket_id', 'merged_from_id')
  t.same(landed, { ticket_id: c.id, merged_from_id: a.id }, 'the reply is kept, on a ticket of the chain, remembering where it was written')
})
