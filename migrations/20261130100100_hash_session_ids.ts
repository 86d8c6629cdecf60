import { createHash } from 'node:crypto'
import type { Knex } from 'knex'

// Session ids are now stored as their SHA-256 (hex), like every other secret. Rows written
// before keep working: their id is hashed in place and their owner read from the data.
// A hashed id is 64 hex characters, which a raw id (32 base64url characters) never is, so
// running this twice changes nothing.
const hashed = /^[0-9a-f]{64}$/

export async function up (knex: Knex): Promise<void> {
  const rows: Array<{ sid: string, data: string }> = await knex('sessions').select('sid', 'data')
  for (const row of rows) {
    if (hashed.test(row.sid)) continue
    const agentId = ownerOf(row.data)
    await knex('sessions').where({ sid: row.sid }).update({
      sid: createHash('sha256').update(row.sid).digest('hex'),
      agent_id: agentId
    })
  }
}

function ownerOf (data: string): number | null {
  try {
    const agentId = (JSON.parse(data) as { agentId?: unknown }).agentId
    return typeof agentId === 'number' ? agentId : null
  } catch {
    return null
  }
}

// A hash cannot be turned back into the id the cookie carries: going down signs everyone out.
export async function down (knex: Knex): Promise<void> {
  await knex('sessions').delete()
}
