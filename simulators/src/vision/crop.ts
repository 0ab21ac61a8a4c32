/**
 * The crop a model consumes, cut from a JPEG frame. It lives in device-drivers (the agent cuts
 * live frames with the same function), so training crops and live crops are the same pixels.
 */
export { cropFrame, cropFrameWindows, type CameraCrop, type CropTarget, type CropWindow } from '@storeedge/device-drivers/camera/crop.ts';
