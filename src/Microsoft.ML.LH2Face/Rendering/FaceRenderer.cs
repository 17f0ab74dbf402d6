using Microsoft.ML.LH2Face.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Microsoft.ML.LH2Face.Rendering;

/// <summary>Value names of the renderer's part of an ONNX graph (images in 0..1, unclamped).</summary>
internal sealed record RendererOnnxValues(string Depth, string Canonical, string Reconstruction);

/// <summary>The ONNX values the renderer reads: the L2-normalised embedding and the backbone features z.</summary>
internal sealed record RendererOnnxInputs(string Embedding, string Features);

/// <summary>
/// The photo-geometric face renderer (METHOD.md section 4): decoders from the unit identity embedding
/// to canonical depth and albedo, heads from the backbone features z to light and view, Lambertian
/// shading, the canonical image J and its inverse warp to the input view I_hat (see
/// <see cref="PhotoGeometry"/> for the frame). Everything is differentiable, and the eval computation
/// exports to ONNX.
/// </summary>
internal sealed class FaceRenderer : Module, IOnnxExportable<RendererOnnxInputs, RendererOnnxValues>
{
    /// <summary>Depth D = 1 + 0.1 tanh(raw): the range [0.9, 1.1] of METHOD.md.</summary>
    public const double DepthAmplitude = 0.1;

    /// <summary>
    /// Image half-widths of relief per unit of depth for a camera of <paramref name="fieldOfViewDegrees"/>:
    /// at distance 1 the image half-width spans tan(fov / 2) depth units, so the surface height in
    /// <see cref="PhotoGeometry"/>'s frame is (D - 1) / tan(fov / 2).
    /// </summary>
    public static double ReliefScale(double fieldOfViewDegrees) => 1.0 / Math.Tan(fieldOfViewDegrees * Math.PI / 360.0);

    /// <summary>Largest yaw, pitch and roll the view head can output (radians: 60, 30, 20 degrees) and largest shift (0.2 half-widths).</summary>
    public static readonly float[] ViewLimits = [(float)(Math.PI / 3), (float)(Math.PI / 6), (float)(Math.PI / 9), 0.2f, 0.2f];

    private readonly CanonicalDecoder depth_decoder;
    private readonly CanonicalDecoder albedo_decoder;
    private readonly RendererHead light_head;
    private readonly RendererHead view_head;
    private readonly int resolution;
    private readonly int warpIterations;
    private readonly double reliefScale;
    private readonly float[] depthPrior;

    /// <param name="embeddingSize">d: size of the embedding and of the features z.</param>
    /// <param name="resolution">Side R of the rendered images; a multiple of 16.</param>
    /// <param name="warpIterations">Fixed-point depth look-ups of the inverse warp (0 = warp the plane at depth 1).</param>
    /// <param name="fieldOfViewDegrees">Camera field of view: sets the relief of the depth range (<see cref="ReliefScale"/>).</param>
    /// <param name="depthPriorStrength">Strength of the convex prior added to the raw depth (<see cref="DepthPrior"/>); 0 = none.</param>
    public FaceRenderer(int embeddingSize, int resolution, int warpIterations, double fieldOfViewDegrees, double depthPriorStrength = 0) : base(nameof(FaceRenderer))
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depthPriorStrength);
        if (!(fieldOfViewDegrees > 0 && fieldOfViewDegrees < 180))
            throw new ArgumentOutOfRangeException(nameof(fieldOfViewDegrees), fieldOfViewDegrees, "The field of view must be an angle between 0 and 180 degrees.");
        if (resolution < 16 || resolution % (1 << CanonicalDecoder.Stages) != 0)
            throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "The renderer resolution must be a positive multiple of 16.");
        ArgumentOutOfRangeException.ThrowIfNegative(warpIterations);
        this.resolution = resolution;
        this.warpIterations = warpIterations;
        reliefScale = ReliefScale(fieldOfViewDegrees);
        depthPrior = DepthPrior(resolution, depthPriorStrength);
        depth_decoder = new CanonicalDecoder("depth_decoder", embeddingSize, resolution, 1);
        albedo_decoder = new CanonicalDecoder("albedo_decoder", embeddingSize, resolution, 3);
        light_head = new RendererHead("light_head", embeddingSize, PhotoGeometry.LightSize);
        view_head = new RendererHead("view_head", embeddingSize, PhotoGeometry.ViewSize);
        RegisterComponents();
    }

    /// <summary>Side R of the rendered images.</summary>
    public int Resolution => resolution;

    /// <summary>Fixed-point depth look-ups of the inverse warp.</summary>
    public int WarpIterations => warpIterations;

    /// <summary>
    /// The convex prior added to the depth decoder's raw output before the tanh, row-major R x R:
    /// -strength * (1 - x^2 - y^2) at the pixel centres (x, y) in [-1, 1]. It makes the untrained face a
    /// bump nearer the camera at the centre and farther at the corners, which breaks the hollow-face
    /// ambiguity of Lambertian shading (a concave face under the mirrored light shades the same); the
    /// decoder learns the rest.
    /// </summary>
    public static float[] DepthPrior(int resolution, double strength)
    {
        var c = PhotoGeometry.PixelCentres(resolution);
        var prior = new float[resolution * resolution];
        for (int y = 0; y < resolution; y++)
            for (int x = 0; x < resolution; x++)
                prior[y * resolution + x] = (float)(-strength * (1 - c[x] * c[x] - c[y] * c[y]));
        return prior;
    }

    /// <summary>Renders a batch from the unit embeddings x [B, d] (identity: depth, albedo) and the features z [B, d] (light, view).</summary>
    public RenderOutput Render(Tensor embedding, Tensor features, bool withFlip)
    {
        using var scope = NewDisposeScope();
        var prior = tensor(depthPrior, device: embedding.device).view(1, 1, resolution, resolution);
        var raw = depth_decoder.forward(embedding).add(prior).tanh();
        using var one = 1.0.ToScalar();
        using var amplitude = DepthAmplitude.ToScalar();
        using var relief = (DepthAmplitude * reliefScale).ToScalar();
        var depth = raw.mul(amplitude).add(one);
        // The surface in PhotoGeometry's frame: 1 + (D - 1) * relief, heights in image half-widths.
        var surface = raw.mul(relief).add(one);
        var albedo = albedo_decoder.forward(embedding).sigmoid();
        var rawLight = light_head.forward(features);
        var light = cat(new[] { rawLight.narrow(1, 0, 2).sigmoid(), rawLight.narrow(1, 2, 2).tanh() }, 1);
        var view = view_head.forward(features).tanh() * tensor(ViewLimits, device: features.device);
        var canonical = albedo * Shade(surface, light);
        var reconstruction = PhotoGeometry.InverseWarp(canonical, surface, view, warpIterations);
        Tensor? flipped = null;
        if (withFlip)
        {
            var flippedSurface = surface.flip(3);
            flipped = PhotoGeometry.InverseWarp(albedo.flip(3) * Shade(flippedSurface, light), flippedSurface, view, warpIterations);
        }
        return new RenderOutput(
            depth.MoveToOuterDisposeScope(), albedo.MoveToOuterDisposeScope(), light.MoveToOuterDisposeScope(), view.MoveToOuterDisposeScope(),
            canonical.MoveToOuterDisposeScope(), reconstruction.MoveToOuterDisposeScope(), flipped?.MoveToOuterDisposeScope());
    }

    /// <summary>Lambertian shading of a surface (heights in image half-widths around 1) under a light [B, 4] as <see cref="RenderOutput.Light"/>.</summary>
    public static Tensor Shade(Tensor depth, Tensor light)
        => PhotoGeometry.Shading(PhotoGeometry.Normals(depth), light.narrow(1, 0, 1), light.narrow(1, 1, 1), PhotoGeometry.LightDirection(light.narrow(1, 2, 2)));

    /// <summary>Images in 0..1 to the 0..255 pixel range of the input columns, clamped.</summary>
    public static Tensor ToPixels(Tensor image)
    {
        using var scale = 255.0.ToScalar();
        using var low = 0.0.ToScalar();
        return image.mul(scale).clamp_(low, scale);
    }

    /// <summary>Writes the eval computation of <see cref="Render"/> (without the flip) into <paramref name="g"/>.</summary>
    public RendererOnnxValues ExportOnnx(OnnxGraphBuilder g, RendererOnnxInputs input, string prefix)
        => ExportOnnx(g, input.Embedding, input.Features, prefix);

    public RendererOnnxValues ExportOnnx(OnnxGraphBuilder g, string embedding, string features, string prefix)
    {
        var raw = g.Tanh(g.Add(depth_decoder.ExportOnnx(g, embedding, prefix + ".depth_decoder"), g.Initializer(prefix + ".depth_prior", depthPrior, 1, 1, resolution, resolution)));
        var depth = g.Add(g.ConstantFloat(1f), g.Mul(g.ConstantFloat((float)DepthAmplitude), raw));
        var surface = g.Add(g.ConstantFloat(1f), g.Mul(g.ConstantFloat((float)(DepthAmplitude * reliefScale)), raw));
        var albedo = g.Sigmoid(albedo_decoder.ExportOnnx(g, embedding, prefix + ".albedo_decoder"));
        var rawLight = light_head.ExportOnnx(g, features, prefix + ".light_head");
        var light = g.Concat(1, g.Sigmoid(g.Slice(rawLight, [0], [2], [1])), g.Tanh(g.Slice(rawLight, [2], [4], [1])));
        var view = g.Mul(g.Tanh(view_head.ExportOnnx(g, features, prefix + ".view_head")), g.Initializer(prefix + ".view_limits", ViewLimits, ViewLimits.Length));
        var canonical = g.Mul(albedo, PhotoGeometryOnnx.Shading(g, surface, light, resolution, resolution));
        var reconstruction = PhotoGeometryOnnx.InverseWarp(g, canonical, surface, view, resolution, resolution, warpIterations);
        return new RendererOnnxValues(depth, canonical, reconstruction);
    }
}
