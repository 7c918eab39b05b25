// YUV → R'G'B' for 4:2:0 frames (I420: three planes, NV12: Y + interleaved UV).
//
// The CPU computes the whole conversion (matrix, range, bit depth, texture scale) into
// three affine rows, so this shader has no per-standard branches. Chroma is sampled at
// a position shifted for its siting; the sampler is bilinear with clamp-to-edge, which
// also scales the picture into the viewport (the letterboxed rectangle).

struct Params {
    // rgb.r = dot(row_r, vec4(y, u, v, 1)), and so on; inputs as the textures return them.
    row_r: vec4<f32>,
    row_g: vec4<f32>,
    row_b: vec4<f32>,
    // Chroma texture coordinate = uv * chroma.xy + chroma.zw.
    chroma: vec4<f32>,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var planes_sampler: sampler;
@group(0) @binding(2) var tex_y: texture_2d<f32>;
@group(0) @binding(3) var tex_u: texture_2d<f32>;  // U plane, or UV for NV12
@group(0) @binding(4) var tex_v: texture_2d<f32>;  // V plane (NV12: UV again, unused)

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

// One triangle that covers the viewport; uv runs 0..1 across it, top-left origin.
@vertex
fn vs_main(@builtin(vertex_index) index: u32) -> VertexOut {
    let x = f32((index << 1u) & 2u);
    let y = f32(index & 2u);
    var out: VertexOut;
    out.position = vec4<f32>(x * 2.0 - 1.0, 1.0 - y * 2.0, 0.0, 1.0);
    out.uv = vec2<f32>(x, y);
    return out;
}

fn to_rgba(y: f32, u: f32, v: f32) -> vec4<f32> {
    let yuv = vec4<f32>(y, u, v, 1.0);
    let rgb = vec3<f32>(dot(params.row_r, yuv), dot(params.row_g, yuv), dot(params.row_b, yuv));
    return vec4<f32>(clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}

fn chroma_uv(uv: vec2<f32>) -> vec2<f32> {
    return uv * params.chroma.xy + params.chroma.zw;
}

@fragment
fn fs_i420(in: VertexOut) -> @location(0) vec4<f32> {
    let y = textureSample(tex_y, planes_sampler, in.uv).r;
    let c = chroma_uv(in.uv);
    let u = textureSample(tex_u, planes_sampler, c).r;
    let v = textureSample(tex_v, planes_sampler, c).r;
    return to_rgba(y, u, v);
}

@fragment
fn fs_nv12(in: VertexOut) -> @location(0) vec4<f32> {
    let y = textureSample(tex_y, planes_sampler, in.uv).r;
    let uv = textureSample(tex_u, planes_sampler, chroma_uv(in.uv)).rg;
    return to_rgba(y, uv.x, uv.y);
}
