/**
 * The client's clock skew for one batch: the player's clock when it sent the batch minus
 * the server's clock when it arrived. Segment (`sentAt`) and Snowplow (`dvce_sent_tstamp`)
 * estimate it the same way. The estimate includes the one-way network delay (it reads a
 * clock that is `delay` behind by the time the batch arrives), so it is biased low by tens
 * of milliseconds: good enough to undo wrong device clocks, which are off by minutes to years.
 *
 * Without `sentAt` (CMCD beacons, clients that do not say) nothing can be estimated and the
 * skew is 0: times are then taken as they are.
 */
export function estimateClockSkewMs(sentAt: number | null, receivedAt: number): number {
  return sentAt === null ? 0 : sentAt - receivedAt;
}
