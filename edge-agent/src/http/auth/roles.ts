/**
 * Who may do what, by rank: a staff member sees the store and does floor work; a manager also
 * decides money and prices; a service token (the simulator, scripts, integrations) may do
 * everything. `public` is not a role anyone has: it marks routes that need no login.
 */
export const userRoles = ['manager', 'staff'] as const;
export const tokenRoles = ['manager', 'staff', 'service'] as const;

export type UserRole = (typeof userRoles)[number];
export type Role = (typeof tokenRoles)[number];
export type RequiredRole = Role | 'public';

const rank: Record<RequiredRole, number> = { public: 0, staff: 1, manager: 2, service: 3 };

/** True when a principal with `role` may use a route that needs `required`. */
export function roleSatisfies(role: Role, required: RequiredRole): boolean {
  return rank[role] >= rank[required];
}
