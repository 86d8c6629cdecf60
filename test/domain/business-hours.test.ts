import t from 'tap'
import { DateTime } from 'luxon'
import { addBusinessMinutes, businessMinutesBetween, type Schedule } from '../../src/domain/business-hours.js'

/** Berlin, Monday to Friday 9:00–17:00 with a lunch break on Fridays, Christmas off. */
const berlin: Schedule = {
  timeZone: 'Europe/Berlin',
  windows: { 1: [[540, 1020]], 2: [[540, 1020]], 3: [[540, 1020]], 4: [[540, 1020]], 5: [[540, 720], [780, 1020]] },
  holidays: new Set(['2026-12-25'])
}
const local = (iso: string): number => DateTime.fromISO(iso, { zone: 'Europe/Berlin' }).toMillis()
const inBerlin = (ms: number): string => DateTime.fromMillis(ms, { zone: 'Europe/Berlin' }).toFormat("yyyy-MM-dd'T'HH:mm")

t.test('around the clock is plain time', async (t) => {
  const from = Date.UTC(2026, 10, 27, 15, 0)
  t.equal(addBusinessMinutes(null, from, 90), from + 90 * 60_000)
  t.equal(businessMinutesBetween(null, from, from + 90 * 60_000), 90)
})

t.test('across a weekend: Friday 16:00 plus 2 business hours is Monday 10:00', async (t) => {
  const friday = local('2026-11-27T16:00')
  const due = addBusinessMinutes(berlin, friday, 120)
  t.equal(inBerlin(due), '2026-11-30T10:00')
  t.equal(businessMinutesBetween(berlin, friday, due), 120)
  t.equal(businessMinutesBetween(berlin, due, friday), -120, 'backwards is negative')
})

t.test('a Friday lunch break is not business time', async (t) => {
  t.equal(inBerlin(addBusinessMinutes(berlin, local('2026-11-27T11:30'), 60)), '2026-11-27T13:30')
})

t.test('outside hours the clock starts at the next window', async (t) => {
  t.equal(inBerlin(addBusinessMinutes(berlin, local('2026-11-28T20:00'), 30)), '2026-11-30T09:30', 'Saturday evening counts from Monday')
  t.equal(businessMinutesBetween(berlin, local('2026-11-28T08:00'), local('2026-11-29T20:00')), 0, 'a weekend holds no business minutes')
})

t.test('a holiday is skipped: Thursday 24 Dec 16:00 plus 2 h is Monday 28 Dec 10:00', async (t) => {
  const due = addBusinessMinutes(berlin, local('2026-12-24T16:00'), 120)
  t.equal(inBerlin(due), '2026-12-28T10:00')
  t.equal(businessMinutesBetween(berlin, local('2026-12-24T16:00'), due), 120)
})

t.test('DST: a day across the change is as long as its wall clock says', async (t) => {
  // 29 March 2026, 2:00 → 3:00 in Berlin; a 24/7 window on that Sunday is 23 hours long.
  const always: Schedule = { timeZone: 'Europe/Berlin', windows: { 1: [[0, 1440]], 2: [[0, 1440]], 3: [[0, 1440]], 4: [[0, 1440]], 5: [[0, 1440]], 6: [[0, 1440]], 7: [[0, 1440]] }, holidays: new Set() }
  t.equal(businessMinutesBetween(always, local('2026-03-29T00:00'), local('2026-03-30T00:00')), 23 * 60, 'spring: 23 h')
  t.equal(businessMinutesBetween(always, local('2026-10-25T00:00'), local('2026-10-26T00:00')), 25 * 60, 'autumn: 25 h')
  // Business hours keep their wall-clock times on either side of the change.
  const friday = local('2026-03-27T16:00')
  const due = addBusinessMinutes(berlin, friday, 120)
  t.equal(inBerlin(due), '2026-03-30T10:00', 'Friday 16:00 + 2 h is Monday 10:00 local')
  t.equal(due - friday, (2 * 24 + 18) * 3600_000 - 3600_000, 'one hour less real time across the spring change')
})

t.test('a window starting in the skipped hour starts as late after the change', async (t) => {
  const night: Schedule = { timeZone: 'Europe/Berlin', windows: { 7: [[150, 240]] }, holidays: new Set() }
  // Sunday 29 March: 2:30 does not exist; read as 3:30 (as Date does), the window is 3:30–4:00.
  t.equal(businessMinutesBetween(night, local('2026-03-29T00:00'), local('2026-03-29T12:00')), 30)
})

t.test('a schedule without hours is refused rather than looping', async (t) => {
  t.throws(() => addBusinessMinutes({ timeZone: 'UTC', windows: {}, holidays: new Set() }, 0, 10), /no business hours/)
})

t.test('days kept from earlier walks answer as a schedule seen for the first time', async (t) => {
  // One schedule walked from instants all through a year, out of order (so walks begin in
  // days kept, days not yet seen, and across both DST changes), against a fresh copy each time.
  const instants = Array.from({ length: 400 }, (_, i) => local('2026-01-01T00:00') + ((i * 7919) % 400) * 22 * 3600_000 + i * 60_000)
  const wrong = instants.filter((from) => {
    const fresh: Schedule = { ...berlin }
    return addBusinessMinutes(berlin, from, 1440) !== addBusinessMinutes(fresh, from, 1440) ||
      businessMinutesBetween(berlin, from, from + 9 * 86_400_000) !== businessMinutesBetween({ ...berlin }, from, from + 9 * 86_400_000)
  })
  t.same(wrong.map(inBerlin), [], 'every instant gets the same due time and the same business minutes')
})
