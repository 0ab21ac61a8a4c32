export * from './truth.ts';
export * from './evaluation.ts';
export * from './checkout-options.ts';
export { FloorPlan, STAND_OFF_M, type Point, type Point3, type TraySite } from './floor-plan.ts';
export { PersonMotion, type Reach } from './motion.ts';
export * from './checkout-script.ts';
export * from './tracker-model.ts';
export * from './checkout-run.ts';
export * from './suite.ts';
