import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../../src/http/auth/login-throttle.ts';
import { csrfMatches, SessionStore } from '../../../src/http/auth/session-store.ts';

const MIN = 60_000;

describe('sessions', () => {
  it('end after idleTimeoutMs unused and after maxLifetimeMs whatever the use', () => {
    let now = 0;
    const store = new SessionStore({ idleTimeoutMs: 10 * MIN, maxLifetimeMs: 60 * MIN, maxSessions: 10 }, () => now);
    const { token } = store.create({ name: 'maria', role: 'manager' });
    for (let i = 0; i < 5; i++) {
      now += 9 * MIN;
      expect(store.use(token)?.user.name).toBe('maria');
    }
    now = 60 * MIN; // used a minute ago, but an hour old
    expect(store.use(token)).toBeUndefined();

    const idle = store.create({ name: 'sam', role: 'staff' });
    now += 10 * MIN;
    expect(store.use(idle.token)).toBeUndefined();
  });

  it('beyond maxSessions the least recently used ends; end() ends one; tokens and CSRF tokens differ per session', () => {
    const now = 0;
    const store = new SessionStore({ idleTimeoutMs: MIN, maxLifetimeMs: MIN, maxSessions: 2 }, () => now);
    const a = store.create({ name: 'a', role: 'staff' });
    const b = store.create({ name: 'b', role: 'staff' });
    store.use(a.token);
    const c = store.create({ name: 'c', role: 'staff' });
    expect([store.use(a.token)?.user.name, store.use(b.token), store.use(c.token)?.user.name]).toEqual(['a', undefined, 'c']);
    expect(store.end(a.token)).toBe(true);
    expect(store.end(a.token)).toBe(false);
    expect(store.size).toBe(1);
    expect(new Set([a.token, b.token, c.token, a.session.csrfToken, c.session.csrfToken]).size).toBe(5);
  });

  it('compares CSRF tokens exactly', () => {
    expect(csrfMatches('abc', 'abc')).toBe(true);
    for (const sent of [undefined, '', 'abd', 'abcd', 'ab']) expect(csrfMatches(sent, 'abc')).toBe(false);
  });
});

describe('login throttle', () => {
  it('refuses a name from an address after maxFailures within the window, until the oldest failure leaves it; success clears', () => {
    let now = 0;
    const throttle = new LoginThrottle({ maxFailures: 3, windowMs: 10 * MIN }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterMs('maria', '10.0.0.1')).toBe(0);
      throttle.failed('maria', '10.0.0.1');
      now += MIN;
    }
    expect(throttle.retryAfterMs('maria', '10.0.0.1')).toBe(7 * MIN);
    expect(throttle.retryAfterMs('maria', '10.0.0.2')).toBe(0);
    expect(throttle.retryAfterMs('sam', '10.0.0.1')).toBe(0);
    now = 10 * MIN;
    expect(throttle.retryAfterMs('maria', '10.0.0.1')).toBe(0);
    throttle.failed('sam', '10.0.0.1');
    throttle.succeeded('sam', '10.0.0.1');
    expect(throttle.retryAfterMs('sam', '10.0.0.1')).toBe(0);
  });

  it('an address spraying names is stopped at ten times the per-name limit', () => {
    const throttle = new LoginThrottle({ maxFailures: 2, windowMs: MIN }, () => 0);
    for (let i = 0; i < 20; i++) throttle.failed(`name-${i}`, '10.0.0.9');
    expect(throttle.retryAfterMs('anyone', '10.0.0.9')).toBe(MIN);
    expect(throttle.retryAfterMs('anyone', '10.0.0.8')).toBe(0);
  });
});
