import type { AccessOptions, AuthEvents } from '../../src/http/auth/index.ts';
import { newApiToken } from '../../src/http/auth/index.ts';
import { loginThrottleSchema, sessionSettingsSchema, type ApiTokenConfig, type UserConfig } from '../../src/http/auth/settings.ts';

export interface TestAccess {
  access: AccessOptions;
  /** `Bearer <token>` of a service token named `test`: may do everything, skips CSRF. */
  authorization: string;
  /** What the server audited, in order. */
  audited: Array<{ type: keyof AuthEvents; payload: AuthEvents[keyof AuthEvents] }>;
}

/** Access options for a server under test: a service token, plus the users and tokens given; audit into a list. */
export function testAccess(options: { users?: UserConfig[]; apiTokens?: ApiTokenConfig[]; now?: () => number } = {}): TestAccess {
  const service = newApiToken();
  const audited: TestAccess['audited'] = [];
  return {
    authorization: `Bearer ${service.token}`,
    audited,
    access: {
      users: options.users ?? [],
      apiTokens: [{ name: 'test', role: 'service', tokenSha256: service.tokenSha256 }, ...(options.apiTokens ?? [])],
      sessions: sessionSettingsSchema.parse({}),
      loginThrottle: loginThrottleSchema.parse({}),
      audit: { record: (type, payload) => void audited.push({ type, payload }) },
      ...(options.now ? { now: options.now } : {}),
    },
  };
}
