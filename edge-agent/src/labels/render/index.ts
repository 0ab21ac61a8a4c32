/** Label templates and rendering (docs/labels-rendering.md). */
export { labelContent, parseLabelContent, priceParts, formatPrice, type LabelContent, type PriceParts } from './content.ts';
export { ean13Modules, gtin14ToEan13, gs1CheckDigit, isValidGtin } from './ean13.ts';
export { decodeLabelImage, encodeLabelImage, encodingFor, packLabelImage, toPng, toRgb, IMAGE_HEADER_BYTES, type LabelPixels } from './encode.ts';
export { FontStack, labelFontFiles, labelFonts, LABEL_FONT_FILE } from './fonts.ts';
export { ditherModes, nearestIndex, quantise, type DitherMode } from './quantise.ts';
export { previewPng, rasteriseLabel, renderLabel, requireTagType, type RenderedLabel, type RenderOptions } from './render-label.ts';
export { LabelRenderer, type LabelRendererOptions, type LabelRendererStatus } from './renderer.ts';
export { layoutLabel, templateKind, type LabelLayout, type TemplateKind } from './template.ts';
