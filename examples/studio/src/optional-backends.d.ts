// tfjs's GPU backends are optional for the studio (not in its dependencies): the page only imports them for their
// side effect (registering the backend), so any module shape will do when they are absent
declare module '@tensorflow/tfjs-backend-webgpu';
declare module '@tensorflow/tfjs-backend-webgl';
