/** Plotly figure builders: each returns a plain `{ data, layout }`; `show(figure)` draws it in a notebook. */
export type { Figure, Trace, Layout } from './figure';
export { lossCurves } from './loss_curves';
export type { HistoryLike, LossCurvesOptions } from './loss_curves';
export { lrSchedule } from './lr_schedule';
export type { ScheduleFn, LrScheduleOptions } from './lr_schedule';
export { activationPlot, activationValues } from './activation';
export type { ActivationLike, ActivationPlotOptions } from './activation';
export { weightHistogram } from './weights';
export type { WeightHistogramOptions } from './weights';
export { predictionsVsTargets } from './predictions';
export type { PredictionsOptions } from './predictions';
export { lossSurface } from './loss_surface';
export type { OptimizerPath, LossSurfaceOptions } from './loss_surface';
export { spectraPlot } from './spectra';
export type { SpectraPlotOptions } from './spectra';
export { heatmaps } from './heatmaps';
export type { HeatmapsOptions } from './heatmaps';
