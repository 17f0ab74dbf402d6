using System.Numerics;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// Renders a <see cref="SynthFaceModel"/> under <see cref="SynthFaceFactors"/>: expression deformation,
/// rigid pose about the neck, weak-perspective projection aligned to the ArcFace template, z-buffered
/// triangle rasterisation at 2x2 supersampling with Gouraud-interpolated Lambertian light and a
/// nearest-texel albedo, then a box filter down to the output size. Written by hand: no library in the
/// dependency set rasterises a textured, z-buffered mesh on the CPU, and this loop is the speed budget.
/// </summary>
internal static class SynthFaceRenderer
{
    private const int Supersampling = 2;
    private const float PivotX = 56, PivotY = 62, PivotZ = -5;

    [ThreadStatic]
    private static Scratch? t_scratch;

    private sealed class Scratch
    {
        public float[] X = Array.Empty<float>(), Y = Array.Empty<float>(), Z = Array.Empty<float>();
        public float[] NX = Array.Empty<float>(), NY = Array.Empty<float>(), NZ = Array.Empty<float>();
        public float[] SX = Array.Empty<float>(), SY = Array.Empty<float>(), SZ = Array.Empty<float>(), SI = Array.Empty<float>();
        public float[] Depth = Array.Empty<float>(), Color = Array.Empty<float>();

        public void Ensure(int vertices, int samples)
        {
            if (X.Length < vertices)
            {
                X = new float[vertices]; Y = new float[vertices]; Z = new float[vertices];
                NX = new float[vertices]; NY = new float[vertices]; NZ = new float[vertices];
                SX = new float[vertices]; SY = new float[vertices]; SZ = new float[vertices]; SI = new float[vertices];
            }
            if (Depth.Length != samples)
            {
                Depth = new float[samples];
                Color = new float[3 * samples];
            }
        }
    }

    /// <summary>
    /// Renders into <paramref name="rgb"/> (size*size*3) and, when given, <paramref name="depth"/> (size*size,
    /// larger is nearer, 0 for background); writes the 5 projected landmarks (x, y) to <paramref name="landmarks"/>.
    /// </summary>
    public static void Render(SynthFaceModel model, SynthFaceFactors f, int size, byte[] rgb, float[]? depth, float[] landmarks)
    {
        int w2 = size * Supersampling;
        var s = t_scratch ??= new Scratch();
        int nv = model.X.Length;
        s.Ensure(nv, w2 * w2);

        float[] px = model.X, py = model.Y, pz = model.Z, nx = model.NX, ny = model.NY, nz = model.NZ;
        bool deformed = f.Smile > 0 || f.MouthOpen > 0 || f.BrowsRaised > 0;
        if (deformed)
        {
            Array.Copy(model.X, s.X, nv); Array.Copy(model.Y, s.Y, nv); Array.Copy(model.Z, s.Z, nv);
            for (int k = 0; k < model.HeadVertices; k++)
                Deform(model, f, ref s.X[k], ref s.Y[k], ref s.Z[k], below: k / model.RowLength > model.SeamRow);
            px = s.X; py = s.Y; pz = s.Z;
            SynthFaceModel.ComputeNormals(px.AsSpan(0, nv), py.AsSpan(0, nv), pz.AsSpan(0, nv), model.Triangles, s.NX.AsSpan(0, nv), s.NY.AsSpan(0, nv), s.NZ.AsSpan(0, nv));
            nx = s.NX; ny = s.NY; nz = s.NZ;
        }

        // Landmarks in the canonical frame, deformed like the mesh.
        Span<Vector3> lm = stackalloc Vector3[5];
        for (int l = 0; l < 5; l++)
        {
            float lx = model.Landmarks3[3 * l], ly = model.Landmarks3[3 * l + 1], lz = model.Landmarks3[3 * l + 2];
            if (deformed) Deform(model, f, ref lx, ref ly, ref lz, below: false);
            lm[l] = new Vector3(lx, ly, lz);
        }

        // Rotation: roll * pitch * yaw, then the in-plane rotation of the template alignment.
        float yaw = Rad(f.Yaw), pitch = Rad(f.Pitch), roll = Rad(f.Roll);
        var ry = new Matrix4x4(MathF.Cos(yaw), 0, -MathF.Sin(yaw), 0, 0, 1, 0, 0, MathF.Sin(yaw), 0, MathF.Cos(yaw), 0, 0, 0, 0, 1);
        var rx = new Matrix4x4(1, 0, 0, 0, 0, MathF.Cos(pitch), MathF.Sin(pitch), 0, 0, -MathF.Sin(pitch), MathF.Cos(pitch), 0, 0, 0, 0, 1);
        float sa = MathF.Sqrt(model.AlignA * model.AlignA + model.AlignB * model.AlignB);
        float alpha = MathF.Atan2(model.AlignB, model.AlignA);
        var rz = Matrix4x4.CreateRotationZ(roll + alpha);
        // System.Numerics uses row vectors (v * M), so the first rotation applied comes first.
        var m = ry * rx * rz;
        float unit = size / (float)FaceTemplate.Size;
        var pivot = new Vector3(PivotX, PivotY, PivotZ);
        var pivotAligned = new Vector2(model.AlignA * PivotX - model.AlignB * PivotY + model.AlignTx, model.AlignB * PivotX + model.AlignA * PivotY + model.AlignTy);
        Vector3 Stage1(Vector3 p)
        {
            var r = Vector3.Transform(p - pivot, m);
            return new Vector3(unit * (sa * r.X + pivotAligned.X), unit * (sa * r.Y + pivotAligned.Y), unit * sa * r.Z);
        }

        // Recentre like a detector would: the landmark centroid stays on the template centroid.
        var tp = FaceTemplate.Points112;
        Vector2 centroid = Vector2.Zero, target = Vector2.Zero;
        for (int l = 0; l < 5; l++)
        {
            var q = Stage1(lm[l]);
            centroid += new Vector2(q.X, q.Y) / 5;
            target += new Vector2(tp[2 * l], tp[2 * l + 1]) * (unit / 5);
        }
        var offset = target - centroid;
        float js = (float)f.JitterScale, cen = (size - 1) / 2f;
        var jt = new Vector2((float)f.JitterX, (float)f.JitterY) * unit;
        Vector3 Project(Vector3 p)
        {
            var q = Stage1(p);
            return new Vector3(cen + js * (q.X + offset.X - cen) + jt.X, cen + js * (q.Y + offset.Y - cen) + jt.Y, js * q.Z);
        }
        for (int l = 0; l < 5; l++)
        {
            var q = Project(lm[l]);
            landmarks[2 * l] = q.X;
            landmarks[2 * l + 1] = q.Y;
        }

        // Vertex stage as one affine map into supersample coordinates (sample centres at integers).
        var o = Project(Vector3.Zero);
        var ex = Project(Vector3.UnitX) - o;
        var ey = Project(Vector3.UnitY) - o;
        var ez = Project(Vector3.UnitZ) - o;
        float ss = Supersampling, half = (Supersampling - 1) / 2f;
        float ox = ss * o.X + half, oy = ss * o.Y + half;
        float el = Rad(f.LightElevation), az = Rad(f.LightAzimuth);
        var light = new Vector3(MathF.Sin(az) * MathF.Cos(el), -MathF.Sin(el), MathF.Cos(az) * MathF.Cos(el));
        var nm = m; // normals: rotation only
        float amb = (float)f.Ambient, dif = (float)f.Diffuse;
        float[] sx = s.SX, sy = s.SY, sz = s.SZ, si = s.SI;
        for (int k = 0; k < nv; k++)
        {
            float x = px[k], y = py[k], z = pz[k];
            sx[k] = ss * (ex.X * x + ey.X * y + ez.X * z) + ox;
            sy[k] = ss * (ex.Y * x + ey.Y * y + ez.Y * z) + oy;
            sz[k] = ex.Z * x + ey.Z * y + ez.Z * z + o.Z;
            var n = Vector3.TransformNormal(new Vector3(nx[k], ny[k], nz[k]), nm);
            si[k] = amb + dif * MathF.Max(0, Vector3.Dot(n, light));
        }

        float[] tex = f.EyesClosed >= 0.5 ? model.ClosedEyesTexture : model.Texture;
        byte occBit = f.Occluder switch { SynthFaceOccluder.Mask => 1, SynthFaceOccluder.Sunglasses => 2, _ => 0 };
        var occColor = f.Occluder == SynthFaceOccluder.Sunglasses ? new Vector3(0.05f, 0.05f, 0.06f) : MaskColor((int)f.OccluderX);
        Rasterize(model, tex, occBit, occColor, s, w2);
        Resolve(f, s, size, rgb, depth);
        if (f.Occluder == SynthFaceOccluder.Hand)
            DrawHand(f, size, rgb);
    }

    /// <summary>Expression as a displacement field over the canonical frame.</summary>
    internal static void Deform(SynthFaceModel m, SynthFaceFactors f, ref float x, ref float y, ref float z, bool below)
    {
        float x0 = x, y0 = y, dxm = x0 - m.MouthX, dym = y0 - m.MouthY;
        if (f.Smile > 0 && MathF.Abs(dym) < 24)
        {
            float smile = (float)f.Smile;
            float wm = Gauss(dym / 6) * Gauss(MathF.Max(0, MathF.Abs(dxm) - m.MouthHalf) / 6);
            float r = Math.Clamp(MathF.Abs(dxm) / m.MouthHalf, 0, 1.3f);
            x += MathF.Sign(dxm) * smile * 2.5f * r * wm;
            y -= smile * 3 * r * r * wm;
            float wc = Gauss(MathF.Sqrt(Sq((MathF.Abs(x0 - 56) - 24) / 8) + Sq((y0 - 68) / 7)));
            y -= smile * 2 * wc;
            z += smile * 1.5f * wc;
        }
        if (f.MouthOpen > 0 && below)
        {
            float inMouth = Smooth(m.MouthHalf + 2, m.MouthHalf - 1, MathF.Abs(dxm));
            float jaw = Smooth(40, 22, MathF.Abs(x0 - 56));
            float t = Smooth(m.MouthY, m.MouthY + 8, y0);
            y += (float)f.MouthOpen * 9 * (inMouth + (jaw - inMouth) * t);
        }
        if (f.BrowsRaised > 0)
        {
            float wb = Smooth(m.EyeY - 20, m.EyeY - 13, y0) * Smooth(m.EyeY - 1, m.EyeY - 5, y0) * Smooth(36, 24, MathF.Abs(x0 - 56));
            y -= (float)f.BrowsRaised * 3 * wb;
        }
    }

    private static void Rasterize(SynthFaceModel model, float[] tex, byte occBit, Vector3 occColor, Scratch s, int w2)
    {
        float[] depth = s.Depth, color = s.Color, sx = s.SX, sy = s.SY, sz = s.SZ, si = s.SI, tu = model.U, tv = model.V;
        byte[] regions = model.Regions;
        Array.Fill(depth, float.NegativeInfinity);
        int[] tris = model.Triangles;
        const int tw = SynthFaceModel.TextureWidth;
        for (int t = 0; t < tris.Length; t += 3)
        {
            int a = tris[t], b = tris[t + 1], c = tris[t + 2];
            float xa = sx[a], ya = sy[a], xb = sx[b], yb = sy[b], xc = sx[c], yc = sy[c];
            float area = (xb - xa) * (yc - ya) - (xc - xa) * (yb - ya);
            if (area <= 1e-6f) continue;
            int x0 = Math.Max(0, (int)MathF.Ceiling(MathF.Min(xa, MathF.Min(xb, xc))));
            int x1 = Math.Min(w2 - 1, (int)MathF.Floor(MathF.Max(xa, MathF.Max(xb, xc))));
            int y0 = Math.Max(0, (int)MathF.Ceiling(MathF.Min(ya, MathF.Min(yb, yc))));
            int y1 = Math.Min(w2 - 1, (int)MathF.Floor(MathF.Max(ya, MathF.Max(yb, yc))));
            if (x0 > x1 || y0 > y1) continue;
            float inv = 1 / area;
            // Attribute planes: value = base + gx * x + gy * y.
            float e0x = -(yc - yb) * inv, e1x = -(ya - yc) * inv, e2x = -(yb - ya) * inv;
            float e0y = (xc - xb) * inv, e1y = (xa - xc) * inv, e2y = (xb - xa) * inv;
            float w0r = ((xc - xb) * (y0 - yb) - (yc - yb) * (x0 - xb)) * inv;
            float w1r = ((xa - xc) * (y0 - yc) - (ya - yc) * (x0 - xc)) * inv;
            float w2r = ((xb - xa) * (y0 - ya) - (yb - ya) * (x0 - xa)) * inv;
            float za = sz[a], zb = sz[b], zc = sz[c], ia = si[a], ib = si[b], ic = si[c];
            float ua = tu[a], ub = tu[b], uc = tu[c], va = tv[a], vb = tv[b], vc = tv[c];
            for (int y = y0; y <= y1; y++, w0r += e0y, w1r += e1y, w2r += e2y)
            {
                float w0 = w0r, w1 = w1r, wv = w2r;
                int row = y * w2;
                for (int x = x0; x <= x1; x++, w0 += e0x, w1 += e1x, wv += e2x)
                {
                    if (w0 < -1e-5f || w1 < -1e-5f || wv < -1e-5f) continue;
                    float z = w0 * za + w1 * zb + wv * zc;
                    int i = row + x;
                    if (z <= depth[i]) continue;
                    depth[i] = z;
                    float light = w0 * ia + w1 * ib + wv * ic;
                    int ui = Math.Min(tw - 1, Math.Max(0, (int)(w0 * ua + w1 * ub + wv * uc)));
                    int vi = Math.Min(SynthFaceModel.TextureHeight, Math.Max(0, (int)(w0 * va + w1 * vb + wv * vc)));
                    int k = vi * tw + ui;
                    if (occBit != 0 && (regions[k] & occBit) != 0)
                    {
                        color[3 * i] = occColor.X * light;
                        color[3 * i + 1] = occColor.Y * light;
                        color[3 * i + 2] = occColor.Z * light;
                    }
                    else
                    {
                        color[3 * i] = tex[3 * k] * light;
                        color[3 * i + 1] = tex[3 * k + 1] * light;
                        color[3 * i + 2] = tex[3 * k + 2] * light;
                    }
                }
            }
        }
    }

    private static void Resolve(SynthFaceFactors f, Scratch s, int size, byte[] rgb, float[]? depthOut)
    {
        int w2 = size * Supersampling;
        float[] depth = s.Depth, color = s.Color;
        // Background as a function of position along its gradient, tabulated.
        Span<Vector3> table = stackalloc Vector3[256];
        float tex = (float)f.BackgroundTexture;
        for (int i = 0; i < 256; i++)
        {
            float t = i / 255f;
            table[i] = Vector3.Lerp(f.BackgroundA, f.BackgroundB, t) * (1 + tex * MathF.Sin(t * 19f));
        }
        float ca = MathF.Cos(Rad(f.BackgroundAngle)), sa = MathF.Sin(Rad(f.BackgroundAngle));
        var lc = f.LightColor * 255f;
        float cen = (size - 1) / 2f, depthShift = 80f * size / FaceTemplate.Size;
        const float quarter = 1f / (Supersampling * Supersampling);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                float t = ((x - cen) * ca + (y - cen) * sa) / (1.42f * size) + 0.5f;
                var bg = table[Math.Clamp((int)(t * 255), 0, 255)] * 255f;
                float r = 0, g = 0, b = 0, zsum = 0;
                int covered = 0;
                for (int sy = 0; sy < Supersampling; sy++)
                {
                    int i = (y * Supersampling + sy) * w2 + x * Supersampling;
                    for (int sx = 0; sx < Supersampling; sx++, i++)
                    {
                        if (depth[i] == float.NegativeInfinity)
                        {
                            r += bg.X; g += bg.Y; b += bg.Z;
                        }
                        else
                        {
                            r += color[3 * i] * lc.X; g += color[3 * i + 1] * lc.Y; b += color[3 * i + 2] * lc.Z;
                            zsum += depth[i];
                            covered++;
                        }
                    }
                }
                int o = 3 * (y * size + x);
                rgb[o] = ToByte(r * quarter);
                rgb[o + 1] = ToByte(g * quarter);
                rgb[o + 2] = ToByte(b * quarter);
                if (depthOut is not null)
                    depthOut[y * size + x] = covered == 0 ? 0 : MathF.Max(0, zsum / covered + depthShift);
            }
        }
    }

    /// <summary>A hand in the image plane: an elliptic palm and four fingers, anti-aliased by signed distance.</summary>
    private static void DrawHand(SynthFaceFactors f, int size, byte[] rgb)
    {
        float unit = size / (float)FaceTemplate.Size;
        var centre = new Vector2((float)f.OccluderX, (float)f.OccluderY) * unit;
        float ang = Rad(f.OccluderAngle);
        var dir = new Vector2(MathF.Cos(ang), MathF.Sin(ang));
        var perp = new Vector2(-dir.Y, dir.X);
        var skin = SkinTone((float)f.OccluderTone) * (float)(f.Ambient + 0.7 * f.Diffuse) * f.LightColor * 255f;
        float reach = 48 * unit;
        int x0 = Math.Max(0, (int)(centre.X - reach)), x1 = Math.Min(size - 1, (int)(centre.X + reach));
        int y0 = Math.Max(0, (int)(centre.Y - reach)), y1 = Math.Min(size - 1, (int)(centre.Y + reach));
        for (int y = y0; y <= y1; y++)
        {
            for (int x = x0; x <= x1; x++)
            {
                var p = new Vector2(x, y) - centre;
                float along = Vector2.Dot(p, dir) / unit, across = Vector2.Dot(p, perp) / unit;
                float d = (MathF.Sqrt(Sq(along / 15) + Sq(across / 17)) - 1) * 15;
                for (int k = 0; k < 4; k++)
                {
                    float fx = -10.5f + 7 * k, len = k is 1 or 2 ? 30 : 25;
                    float t = Math.Clamp(along / len, 0, 1);
                    float dist = MathF.Sqrt(Sq(along - t * len) + Sq(across - fx)) - 3.3f;
                    d = MathF.Min(d, dist);
                }
                float cover = Math.Clamp(0.5f - d * unit, 0, 1);
                if (cover <= 0) continue;
                float shade = 0.85f + 0.15f * Math.Clamp(-across / 20, -1, 1);
                int o = 3 * (y * size + x);
                rgb[o] = ToByte(rgb[o] * (1 - cover) + skin.X * shade * cover);
                rgb[o + 1] = ToByte(rgb[o + 1] * (1 - cover) + skin.Y * shade * cover);
                rgb[o + 2] = ToByte(rgb[o + 2] * (1 - cover) + skin.Z * shade * cover);
            }
        }
    }

    private static Vector3 SkinTone(float t) => Vector3.Lerp(new Vector3(0.4f, 0.26f, 0.18f), new Vector3(0.93f, 0.76f, 0.66f), t);

    private static Vector3 MaskColor(int index) => (index & 3) switch
    {
        0 => new Vector3(0.62f, 0.76f, 0.86f),
        1 => new Vector3(0.92f, 0.92f, 0.92f),
        2 => new Vector3(0.12f, 0.12f, 0.13f),
        _ => new Vector3(0.55f, 0.62f, 0.5f),
    };

    private static byte ToByte(float v) => (byte)Math.Clamp((int)(v + 0.5f), 0, 255);

    private static float Rad(double degrees) => (float)(degrees * Math.PI / 180);

    private static float Gauss(float t) => MathF.Exp(-0.5f * t * t);

    private static float Sq(float v) => v * v;

    private static float Smooth(float e0, float e1, float v)
    {
        float t = Math.Clamp((v - e0) / (e1 - e0), 0, 1);
        return t * t * (3 - 2 * t);
    }
}
