import { isUniqueViolation, type Db } from './database.js'

/*
 * A scheduled job's hold on one item (a ticket, say) while it works on it: a row per
 * (job, item) with its owner and expiry, so instances running the same job at once never
 * work one item twice, and an item whose worker died is taken again once its lease expires.
 */

/**
 * Takes the item for `owner` until `leaseUntil`; false when another live lease holds it.
 * An expired lease is taken over by a conditional update, a missing one by an insert that
 * the primary key lets only one instance make.
 */
export async function takeJobLease (db: Db, job: string, itemId: number, owner: string, now: number, leaseUntil: number): Promise<boolean> {
  const renewed = await db('job_leases').where({ job, item_id: itemId }).andWhere('lease_until', '<', now).update({ owner, lease_until: leaseUntil })
  if (renewed === 1) return true
  try {
    await db('job_leases').insert({ job, item_id: itemId, owner, lease_until: leaseUntil })
    return true
  } catch (err) {
    if (isUniqueViolation(err)) return false
    throw err
  }
}

/** Gives the item back once its work is done (or failed): it is free for the next pass. */
export async function releaseJobLease (db: Db, job: string, itemId: number, owner: string): Promise<void> {
  await db('job_leases').where({ job, item_id: itemId, owner }).delete()
}

/** Items of `job` someone holds a live lease on; a list query leaves them out with whereNotExists. */
export function liveLeases (db: Db, job: string, itemColumn: string, now: number): ReturnType<Db> {
  return db('job_leases as jl').where('jl.job', job).andWhereRaw('jl.item_id = ??', [itemColumn]).andWhere('jl.lease_until', '>=', now).select(db.raw('1'))
}
