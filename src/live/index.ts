/**
 * The live side, in every instance: following the database (the loop that live releases and live
 * flags share), which version decides each application, shadow comparison with the release under
 * test, and the watcher that rolls a failing release back and promotes on schedule.
 */
export { follow, type Follower, type FollowSettings } from './follow.ts';
export { DEFAULT_LIVE_SETTINGS, LiveReleases, type LiveLog, type LiveSettings } from './live-releases.ts';
export {
  BUCKETS,
  canaryBucket,
  fixedRouter,
  inShadowShare,
  Routing,
  underTest,
  type Route,
  type RuleRouter,
  type UnderTest,
} from './routing.ts';
export { ShadowEvaluator, type ShadowObserver, type ShadowSettings } from './shadow.ts';
