// Workflows of the polling-pattern bench: the product's `exportSnapshot` as is, plus the comparison loops.
export { exportSnapshot, progressQuery } from '../../src/workflows';
export { benchProgressQuery, exportHeartbeatLoop, exportTimerLoop } from './polling-loops';
