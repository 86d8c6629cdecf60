import type { Db } from './database.js'

/** The signatures a reply may carry: the agent's own and the ticket's department's. */
export async function findSignatures (db: Db, agentId: number, departmentId: number): Promise<{ mine: string | null, department: string | null }> {
  // One statement: a reply reads both on every send.
  const row: { mine: string | null, department: string | null } | undefined = await db
    .select(db('agents').where({ id: agentId }).select('signature').as('mine'), db('departments').where({ id: departmentId }).select('signature').as('department'))
    .first()
  return { mine: row?.mine ?? null, department: row?.department ?? null }
}

export async function findDepartmentSignature (db: Db, departmentId: number): Promise<string | null | undefined> {
  const row: { signature: string | null } | undefined = await db('departments').where({ id: departmentId }).first('signature')
  return row === undefined ? undefined : row.signature
}

export async function setDepartmentSignature (db: Db, departmentId: number, signature: string | null): Promise<void> {
  await db('departments').where({ id: departmentId }).update({ signature })
}
