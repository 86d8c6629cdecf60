import type { Knex } from 'knex'

// Well below every database's limit on bound values per statement.
const chunkSize = 500

function chunks<T> (items: T[]): T[][] {
  const result: T[][] = []
  for (let i = 0; i < items.length; i += chunkSize) result.push(items.slice(i, i + chunkSize))
  return result
}

// Failed sign-ins counted before sign_in_events existed become events an administrator can
// read. Their address was kept in a row of its own that cannot be matched back for certain,
// so it is left empty. The rows are moved, not copied: running this twice adds nothing.
export async function up (knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    const failures: Array<{ id: number, subject: string, created_at: number }> = await trx('login_failures')
      .where('subject', 'like', 'account:%').orderBy('id').select('id', 'subject', 'created_at')
    if (failures.length === 0) return
    const emails = [...new Set(failures.map((f) => f.subject.slice('account:'.length).slice(0, 254)))]
    const agentIds = new Map<string, number>()
    for (const some of chunks(emails)) {
      const agents: Array<{ id: number, email: string }> = await trx('agents').whereIn('email', some).select('id', 'email')
      for (const agent of agents) agentIds.set(agent.email, agent.id)
    }
    const events = failures.map((f) => {
      const email = f.subject.slice('account:'.length).slice(0, 254)
      return { email, agent_id: agentIds.get(email) ?? null, address: '', outcome: 'failed', created_at: Number(f.created_at) }
    })
    for (const some of chunks(events)) await trx('sign_in_events').insert(some)
    for (const some of chunks(failures)) await trx('login_failures').whereIn('id', some.map((f) => f.id)).delete()
  })
}

export async function down (): Promise<void> {
  // The events stay: they are the history the failures were moved into.
}
