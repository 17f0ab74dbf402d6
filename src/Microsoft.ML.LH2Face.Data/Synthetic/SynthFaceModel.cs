using System.Numerics;
using Microsoft.ML.LH2Face.Data.Alignment;

namespace Microsoft.ML.LH2Face.Data.Synthetic;

/// <summary>
/// The renderable form of one identity: a head mesh (an ellipsoid in a longitude/height grid, denser at
/// the front, plus a height field of facial features added towards the camera), a neck cylinder, and an
/// albedo texture indexed by (warped longitude, height). Coordinates are pixels of the 112x112 template
/// frame: x right, y down, z towards the camera. The grid has a duplicated row at the mouth line (a seam)
/// so that the jaw can open and show the dark mouth line stretched into an opening.
/// </summary>
internal sealed class SynthFaceModel
{
    public const int TextureWidth = 256;
    public const int TextureHeight = 256;
    private const int Columns = 64;
    private const int NeckColumns = 24;
    private const int NeckRows = 6;
    private const float WarpK = 0.6f;
    private const float Cx = 56f;

    private readonly SynthFaceIdentity _identity;
    private readonly Lazy<float[]> _closedEyes;

    // Layout (template pixels).
    public readonly float EyeY, NoseY, MouthY, MouthX, MouthHalf, ChinBottom, Cy, Ax, AyTop, AyBottom, Az, Q, JawTaper;
    public readonly Vector2 LeftEye, RightEye, Nose, LeftMouth, RightMouth;
    private readonly float _browRidge, _socket, _cheek, _noseBridge, _noseStart, _noseWidth, _noseTip, _noseProj, _lip, _chin, _ear;
    private readonly float _eyeHalfWidth, _eyeHalfHeight, _irisRadius, _browThick, _browArch, _browLength, _browTilt, _browHeight;
    private readonly float _hairlineFront, _peak, _recede, _hairVolume, _hairBack;
    private readonly bool _bald, _glasses;
    private readonly int _facialHair;
    private readonly float _facialHairDensity, _freckles, _blotch;
    private readonly Vector3 _skin, _lipColor, _iris, _hair, _brow;
    private readonly ulong _noiseSeed;

    /// <summary>Canonical vertex positions.</summary>
    public readonly float[] X, Y, Z;
    /// <summary>Texture coordinates in texels.</summary>
    public readonly float[] U, V;
    /// <summary>Vertex normals of the neutral mesh.</summary>
    public readonly float[] NX, NY, NZ;
    /// <summary>Vertex indices, three per triangle, wound so that faces towards the camera have positive screen area.</summary>
    public readonly int[] Triangles;
    /// <summary>Head vertices come first; the neck follows.</summary>
    public readonly int HeadVertices, RowLength, SeamRow;
    /// <summary>RGB albedo in 0..1, (TextureHeight + 1) rows; the last row is plain skin for the neck.</summary>
    public readonly float[] Texture;
    /// <summary>Per texel: bit 1 under a face mask, bit 2 under sunglasses.</summary>
    public readonly byte[] Regions;
    /// <summary>The 5 landmarks in 3D, canonical frame (x, y, z) x 5.</summary>
    public readonly float[] Landmarks3 = new float[15];
    /// <summary>Similarity from the canonical frame to the 112 template: X = A x - B y + Tx, Y = B x + A y + Ty.</summary>
    public readonly float AlignA, AlignB, AlignTx, AlignTy;

    public SynthFaceModel(SynthFaceIdentity identity)
    {
        _identity = identity;
        float T(SynthFaceTrait t, float min, float max) => min + (max - min) * (float)identity[t];
        var tp = FaceTemplate.Points112;
        float eyeShift = T(SynthFaceTrait.EyeSpacing, -0.7f, 0.7f), mouthShift = T(SynthFaceTrait.MouthWidth, -0.7f, 0.7f);
        float mouthDy = T(SynthFaceTrait.MouthHeight, -0.7f, 0.7f), noseDy = T(SynthFaceTrait.NoseHeight, -0.7f, 0.7f);
        LeftEye = new Vector2(tp[0] - eyeShift, tp[1]);
        RightEye = new Vector2(tp[2] + eyeShift, tp[3]);
        Nose = new Vector2(tp[4], tp[5] + noseDy);
        LeftMouth = new Vector2(tp[6] - mouthShift, tp[7] + mouthDy);
        RightMouth = new Vector2(tp[8] + mouthShift, tp[9] + mouthDy);
        EyeY = (LeftEye.Y + RightEye.Y) / 2;
        NoseY = Nose.Y;
        MouthY = (LeftMouth.Y + RightMouth.Y) / 2;
        MouthX = (LeftMouth.X + RightMouth.X) / 2;
        MouthHalf = (RightMouth.X - LeftMouth.X) / 2;
        Cy = EyeY;
        Ax = T(SynthFaceTrait.HeadWidth, 38, 46);
        AyTop = T(SynthFaceTrait.HeadHeight, 58, 72);
        ChinBottom = MouthY + T(SynthFaceTrait.ChinLength, 16, 26);
        AyBottom = ChinBottom - Cy;
        Az = T(SynthFaceTrait.HeadDepth, 42, 52);
        Q = T(SynthFaceTrait.FaceFlatness, 0.8f, 0.45f);
        JawTaper = T(SynthFaceTrait.JawTaper, 0.15f, 0.45f);
        _chin = T(SynthFaceTrait.ChinProjection, 0, 4);
        _cheek = T(SynthFaceTrait.Cheekbones, 0, 4);
        _browRidge = T(SynthFaceTrait.BrowRidge, 0.5f, 4);
        _socket = T(SynthFaceTrait.EyeSocketDepth, 2, 6);
        _eyeHalfHeight = T(SynthFaceTrait.EyeOpening, 1.8f, 3.2f);
        _eyeHalfWidth = T(SynthFaceTrait.EyeWidth, 5.5f, 7.5f);
        _noseBridge = T(SynthFaceTrait.NoseBridge, 1, 5);
        _noseStart = T(SynthFaceTrait.NoseLength, 0, 0.6f);
        _noseWidth = T(SynthFaceTrait.NoseWidth, 3.5f, 7);
        _noseTip = T(SynthFaceTrait.NoseTip, 1, 3);
        _noseProj = T(SynthFaceTrait.NoseProjection, 5, 11);
        _lip = T(SynthFaceTrait.LipFullness, 0.6f, 1.4f);
        _ear = T(SynthFaceTrait.EarSize, 0.7f, 1.3f);
        _irisRadius = T(SynthFaceTrait.IrisSize, 2.1f, 3.0f);
        _browThick = T(SynthFaceTrait.BrowThickness, 0.9f, 2.6f);
        _browArch = T(SynthFaceTrait.BrowArch, 0, 2.5f);
        _browLength = T(SynthFaceTrait.BrowLength, 7, 11);
        _browTilt = T(SynthFaceTrait.BrowTilt, -1.5f, 1.5f);
        _browHeight = T(SynthFaceTrait.BrowHeight, 6.5f, 10);
        _hairlineFront = T(SynthFaceTrait.HairlineHeight, 8, 30);
        float shape = (float)identity[SynthFaceTrait.HairlineShape];
        _peak = MathF.Max(0, 0.4f - shape) * 12;
        _recede = MathF.Max(0, shape - 0.6f) * 22;
        _hairVolume = T(SynthFaceTrait.HairVolume, 1, 6);
        _hairBack = T(SynthFaceTrait.HairLength, 60, 115);
        _bald = identity[SynthFaceTrait.Baldness] > 0.85;
        _glasses = identity[SynthFaceTrait.Glasses] < 0.12;
        double fh = identity[SynthFaceTrait.FacialHairStyle];
        _facialHair = fh < 0.6 ? 0 : 1 + (int)Math.Min(3, (fh - 0.6) / 0.4 * 4);
        _facialHairDensity = T(SynthFaceTrait.FacialHairDensity, 0.35f, 1);
        _freckles = MathF.Max(0, (float)identity[SynthFaceTrait.Freckles] - 0.7f) / 0.3f;
        _blotch = T(SynthFaceTrait.SkinBlotch, 0, 1);
        _skin = SkinColor((float)identity[SynthFaceTrait.SkinTone], (float)identity[SynthFaceTrait.SkinWarmth]);
        float lipTone = (float)identity[SynthFaceTrait.LipTone];
        _lipColor = _skin * new Vector3(0.85f - 0.15f * lipTone, 0.5f - 0.15f * lipTone, 0.52f - 0.14f * lipTone);
        _iris = Palette(IrisPalette, (float)identity[SynthFaceTrait.IrisHue]);
        _hair = HairColor((float)identity[SynthFaceTrait.HairDarkness], (float)identity[SynthFaceTrait.HairHue]);
        _brow = Vector3.Lerp(_hair, _hair * 0.45f, (float)identity[SynthFaceTrait.BrowDarkness]);
        if (_bald)
            _brow = Vector3.Lerp(_brow, new Vector3(0.15f, 0.1f, 0.07f), 0.5f);
        _noiseSeed = StableRandom.Mix((ulong)identity.Seed * 0x100000001UL + (ulong)identity.Index);

        // Mesh rows: coarse on the cranium, fine on the face, the mouth line twice.
        var rows = new List<float>();
        float top = Cy - AyTop;
        for (float y = top; y < 24; y += 4) rows.Add(y);
        for (float y = 24; y < ChinBottom - 6; y += 2f) if (MathF.Abs(y - MouthY) > 0.7f) rows.Add(y);
        for (float y = ChinBottom - 6; y < ChinBottom; y += 2) rows.Add(y);
        rows.Add(ChinBottom);
        rows.Add(MouthY);
        rows.Add(MouthY);
        rows.Sort();
        SeamRow = rows.IndexOf(MouthY);
        RowLength = Columns + 1;
        HeadVertices = rows.Count * RowLength;
        int total = HeadVertices + (NeckRows + 1) * (NeckColumns + 1);
        X = new float[total]; Y = new float[total]; Z = new float[total]; U = new float[total]; V = new float[total];
        float span = ChinBottom - top;
        for (int j = 0; j < rows.Count; j++)
        {
            for (int i = 0; i <= Columns; i++)
            {
                float g = -1 + 2f * i / Columns;
                float theta = MathF.PI * InverseWarp(g);
                var p = Surface(theta, rows[j]);
                int k = j * RowLength + i;
                X[k] = p.X; Y[k] = p.Y; Z[k] = p.Z;
                U[k] = Math.Clamp((g + 1) / 2 * TextureWidth, 0, TextureWidth - 0.01f);
                V[k] = Math.Clamp((rows[j] - top) / span * TextureHeight, 0, TextureHeight - 0.01f);
            }
        }
        float neckRadius = 0.55f * Ax, neckZ = -0.3f * Az, neckTop = Cy + 0.35f * AyBottom;
        for (int j = 0; j <= NeckRows; j++)
        {
            for (int i = 0; i <= NeckColumns; i++)
            {
                float theta = -MathF.PI + 2 * MathF.PI * i / NeckColumns;
                int k = HeadVertices + j * (NeckColumns + 1) + i;
                X[k] = Cx + neckRadius * MathF.Sin(theta);
                Y[k] = neckTop + j * 12f;
                Z[k] = neckZ + neckRadius * MathF.Cos(theta);
                U[k] = TextureWidth / 2f;
                V[k] = TextureHeight + 0.5f;
            }
        }
        var tris = new List<int>();
        AddGrid(tris, 0, rows.Count, RowLength);
        AddGrid(tris, HeadVertices, NeckRows + 1, NeckColumns + 1);
        Triangles = tris.ToArray();
        NX = new float[total]; NY = new float[total]; NZ = new float[total];
        ComputeNormals(X, Y, Z, Triangles, NX, NY, NZ);

        Texture = new float[TextureWidth * (TextureHeight + 1) * 3];
        Regions = new byte[TextureWidth * (TextureHeight + 1)];
        Paint(Texture, Regions, closedEyes: false);
        _closedEyes = new Lazy<float[]>(() =>
        {
            var t = (float[])Texture.Clone();
            Paint(t, null, closedEyes: true, eyesOnly: true);
            return t;
        });

        Span<Vector2> lm = stackalloc Vector2[] { LeftEye, RightEye, Nose, LeftMouth, RightMouth };
        for (int l = 0; l < 5; l++)
        {
            Landmarks3[3 * l] = lm[l].X;
            Landmarks3[3 * l + 1] = lm[l].Y;
            Landmarks3[3 * l + 2] = SurfaceZAt(lm[l].X, lm[l].Y);
        }
        Span<float> points = stackalloc float[10];
        for (int l = 0; l < 5; l++)
        {
            points[2 * l] = lm[l].X;
            points[2 * l + 1] = lm[l].Y;
        }
        (AlignA, AlignB, AlignTx, AlignTy) = SimilarityTransform.Fit<float>(points, tp);
    }

    /// <summary>The texture with the eyes closed (built on first use).</summary>
    public float[] ClosedEyesTexture => _closedEyes.Value;

    /// <summary>The identity this model renders.</summary>
    public SynthFaceIdentity Identity => _identity;

    public static void ComputeNormals(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> z, int[] tris, Span<float> nx, Span<float> ny, Span<float> nz)
    {
        nx.Clear(); ny.Clear(); nz.Clear();
        for (int t = 0; t < tris.Length; t += 3)
        {
            int a = tris[t], b = tris[t + 1], c = tris[t + 2];
            float ux = x[b] - x[a], uy = y[b] - y[a], uz = z[b] - z[a];
            float vx = x[c] - x[a], vy = y[c] - y[a], vz = z[c] - z[a];
            float cx = uy * vz - uz * vy, cy = uz * vx - ux * vz, cz = ux * vy - uy * vx;
            nx[a] += cx; ny[a] += cy; nz[a] += cz;
            nx[b] += cx; ny[b] += cy; nz[b] += cz;
            nx[c] += cx; ny[c] += cy; nz[c] += cz;
        }
        for (int i = 0; i < nx.Length; i++)
        {
            float l = MathF.Sqrt(nx[i] * nx[i] + ny[i] * ny[i] + nz[i] * nz[i]);
            if (l > 1e-12f) { nx[i] /= l; ny[i] /= l; nz[i] /= l; }
            else { nx[i] = 0; ny[i] = 0; nz[i] = 1; }
        }
    }

    private static void AddGrid(List<int> tris, int start, int rows, int rowLength)
    {
        for (int j = 0; j + 1 < rows; j++)
        {
            for (int i = 0; i + 1 < rowLength; i++)
            {
                int a = start + j * rowLength + i, b = a + 1, c = a + rowLength, d = c + 1;
                tris.Add(a); tris.Add(b); tris.Add(c);
                tris.Add(b); tris.Add(d); tris.Add(c);
            }
        }
    }

    private static float InverseWarp(float g)
    {
        float t = g;
        for (int k = 0; k < 6; k++)
            t -= (t + WarpK * MathF.Sin(MathF.PI * t) / MathF.PI - g) / (1 + WarpK * MathF.Cos(MathF.PI * t));
        return t;
    }

    private static float Gauss(float t) => MathF.Exp(-0.5f * t * t);

    private static float Smooth(float e0, float e1, float v)
    {
        float t = Math.Clamp((v - e0) / (e1 - e0), 0, 1);
        return t * t * (3 - 2 * t);
    }

    private float Section(float y) => MathF.Sqrt(MathF.Max(0, 1 - Sq((y - Cy) / (y < Cy ? AyTop : AyBottom))));

    private float HalfWidth(float y) => y > Cy ? Ax * (1 - JawTaper * Sq((y - Cy) / AyBottom)) : Ax;

    private static float Sq(float v) => v * v;

    /// <summary>Base (x, before features) of the head at longitude theta and height y.</summary>
    private float BaseX(float theta, float y) => Cx + HalfWidth(y) * Section(y) * MathF.Sin(theta);

    private Vector3 Surface(float theta, float y)
    {
        float c = Section(y), s = MathF.Sin(theta), co = MathF.Cos(theta);
        float x = Cx + HalfWidth(y) * c * s;
        float z = Az * c * MathF.Sign(co) * MathF.Pow(MathF.Abs(co), Q);
        z += Height(x, y) * Smooth(0.25f, 0.6f, co);
        float ear = _ear * Gauss((MathF.Abs(theta) - 1.62f) / 0.16f) * MathF.Exp(-Sq(Sq((y - (EyeY + NoseY) / 2 - 2) / (8 * _ear))));
        x += MathF.Sign(s) * 5 * ear;
        float hair = HairAmount(theta, x, y) * _hairVolume;
        if (hair > 0)
        {
            var n = Vector3.Normalize(new Vector3((x - Cx) / (Ax * Ax), (y - Cy) / Sq(y < Cy ? AyTop : AyBottom), z / (Az * Az)) + new Vector3(0, 0, 1e-6f));
            x += n.X * hair; y += n.Y * hair; z += n.Z * hair;
        }
        return new Vector3(x, y, z);
    }

    private float SurfaceZAt(float x, float y)
    {
        float c = Section(y);
        float s = Math.Clamp((x - Cx) / (HalfWidth(y) * c), -1, 1);
        float co = MathF.Sqrt(1 - s * s);
        return Az * c * MathF.Pow(co, Q) + Height(x, y) * Smooth(0.25f, 0.6f, co);
    }

    /// <summary>The facial height field, pixels towards the camera, over the frontal frame.</summary>
    private float Height(float x, float y)
    {
        float dx = x - Cx, h = 0;
        h += _browRidge * Gauss(dx / 22) * Gauss((y - (EyeY - 8.5f)) / 3.2f);
        if (MathF.Abs(y - EyeY) < 20)
        {
            foreach (var e in stackalloc Vector2[] { LeftEye, RightEye })
            {
                float ex = x - e.X, ey = y - e.Y;
                h -= _socket * Gauss(MathF.Sqrt(Sq(ex / 7.5f) + Sq((ey + 0.5f) / 5.5f)));
                h += 0.55f * _socket * Gauss(MathF.Sqrt(Sq(ex / 5f) + Sq(ey / 3.2f)));
            }
        }
        h += _cheek * (Gauss(MathF.Sqrt(Sq((dx + 24) / 7) + Sq((y - 66) / 6))) + Gauss(MathF.Sqrt(Sq((dx - 24) / 7) + Sq((y - 66) / 6))));
        // Nose: a ridge that rises from the bridge to the tip, a tip bulb and the nostril wings.
        if (y > EyeY - 10 && y < NoseY + 12 && MathF.Abs(dx) < 16)
        {
            float t = Math.Clamp((y - EyeY) / (NoseY - EyeY), 0, 1);
            float ys = EyeY + _noseStart * (NoseY - EyeY);
            float rise = MathF.Pow(Math.Clamp((y - ys) / (NoseY - ys), 0, 1), 1.5f);
            float ridge = _noseBridge * Smooth(EyeY - 6, EyeY + 2, y) + _noseProj * rise;
            if (y > NoseY) ridge *= Gauss((y - NoseY) / 2.2f);
            float sigma = 2.2f + t * (0.8f + 0.25f * _noseWidth);
            h += ridge * Gauss(dx / sigma);
            h += _noseTip * Gauss(MathF.Sqrt(Sq(dx / 3.2f) + Sq((y - NoseY) / 3)));
            h += 2.2f * (Gauss(MathF.Sqrt(Sq((dx - 0.8f * _noseWidth) / 2.2f) + Sq((y - NoseY - 1.5f) / 2.2f)))
                       + Gauss(MathF.Sqrt(Sq((dx + 0.8f * _noseWidth) / 2.2f) + Sq((y - NoseY - 1.5f) / 2.2f))));
        }
        if (MathF.Abs(y - MouthY) < 12)
        {
            float mx = x - MouthX;
            h += 1.8f * _lip * MathF.Exp(-Sq(Sq(mx / (MouthHalf * 0.95f)))) * Gauss((y - (MouthY - 2.2f * _lip)) / 1.8f);
            h += 2.0f * _lip * MathF.Exp(-Sq(Sq(mx / (MouthHalf * 0.85f)))) * Gauss((y - (MouthY + 2.8f * _lip)) / 2.2f);
            h -= 0.8f * MathF.Exp(-Sq(Sq(mx / MouthHalf))) * Gauss((y - MouthY) / 0.9f);
        }
        h += _chin * Gauss(MathF.Sqrt(Sq(dx / 9) + Sq((y - ChinBottom + 6) / 5)));
        return h;
    }

    /// <summary>Hair cover in [0, 1] at a surface point (soft edge).</summary>
    private float HairAmount(float theta, float x, float y)
    {
        float a = MathF.Abs(theta), dx = x - Cx;
        float front = _hairlineFront - _peak * Gauss(dx / 5) + _recede * Gauss((MathF.Abs(dx) - 21) / 6);
        float side = EyeY - 4;
        float limit = a < 0.9f ? front
            : a < 1.45f ? front + (side - front) * Smooth(0.9f, 1.45f, a)
            : a < 2.0f ? side
            : side + (_hairBack - side) * Smooth(2.0f, 2.6f, a);
        float amount = Smooth(limit + 1.5f, limit - 1.5f, y);
        if (_bald)
            amount *= Smooth(1.1f, 1.5f, a) * Smooth(20, 30, y);
        return amount;
    }

    private void Paint(float[] texture, byte[]? regions, bool closedEyes, bool eyesOnly = false)
    {
        float top = Cy - AyTop, span = ChinBottom - top;
        int mouthRow = (int)MathF.Floor((MouthY - top) / span * TextureHeight);
        Span<float> thetas = stackalloc float[TextureWidth];
        Span<float> sines = stackalloc float[TextureWidth];
        for (int u = 0; u < TextureWidth; u++)
        {
            thetas[u] = MathF.PI * InverseWarp(-1 + 2 * (u + 0.5f) / TextureWidth);
            sines[u] = MathF.Sin(thetas[u]);
        }
        for (int v = 0; v < TextureHeight; v++)
        {
            float y = top + (v + 0.5f) / TextureHeight * span;
            if (eyesOnly && MathF.Abs(y - EyeY) > 6) continue;
            float rowWidth = HalfWidth(y) * Section(y);
            for (int u = 0; u < TextureWidth; u++)
            {
                float theta = thetas[u];
                float x = Cx + rowWidth * sines[u];
                if (eyesOnly && (MathF.Abs(theta) > 1.2f || MathF.Min(MathF.Abs(x - LeftEye.X), MathF.Abs(x - RightEye.X)) > 10)) continue;
                var color = Albedo(theta, x, y, v == mouthRow, closedEyes, out byte region);
                int k = v * TextureWidth + u;
                texture[3 * k] = color.X; texture[3 * k + 1] = color.Y; texture[3 * k + 2] = color.Z;
                if (regions is not null) regions[k] = region;
            }
        }
        for (int u = 0; u < TextureWidth; u++)
        {
            int k = TextureHeight * TextureWidth + u;
            texture[3 * k] = _skin.X * 0.95f; texture[3 * k + 1] = _skin.Y * 0.93f; texture[3 * k + 2] = _skin.Z * 0.93f;
        }
    }

    private Vector3 Albedo(float theta, float x, float y, bool mouthRow, bool closedEyes, out byte region)
    {
        float dx = x - Cx, co = MathF.Cos(theta);
        bool front = co > 0.2f;
        float n = StableRandom.ValueNoise(theta * 9, y / 9, _noiseSeed);
        var c = _skin * (1 + 0.08f * _blotch * (n - 0.5f) * 2);
        region = 0;
        if (front)
        {
            // Cheek redness and darker eye sockets.
            if (MathF.Abs(y - 72) < 21 && MathF.Abs(MathF.Abs(dx) - 22) < 24)
            {
                float blush = 0.5f * _blotch * Gauss(MathF.Sqrt(Sq((MathF.Abs(dx) - 22) / 8) + Sq((y - 72) / 7)));
                c = Vector3.Lerp(c, c * new Vector3(1.05f, 0.82f, 0.82f), blush);
            }
            if (MathF.Abs(y - EyeY) < 18)
            {
                float sock = Gauss(MathF.Sqrt(Sq((x - LeftEye.X) / 9) + Sq((y - EyeY) / 6))) + Gauss(MathF.Sqrt(Sq((x - RightEye.X) / 9) + Sq((y - EyeY) / 6)));
                c *= 1 - 0.12f * sock;
            }
            if (_freckles > 0 && y > EyeY + 3 && y < NoseY + 8 && MathF.Abs(dx) < 28)
            {
                float f = StableRandom.Hash01((int)(x * 1.3f), (int)(y * 1.3f), _noiseSeed + 7);
                if (f > 1 - 0.12f * _freckles) c *= new Vector3(0.78f, 0.7f, 0.66f);
            }
            foreach (var m in _identity.Marks)
            {
                float d = MathF.Sqrt(Sq(x - m.X) + Sq(y - m.Y));
                if (d < m.Z) c = Vector3.Lerp(c, c * new Vector3(0.45f, 0.35f, 0.3f), m.W * Smooth(m.Z, m.Z * 0.5f, d));
            }
            // Nostrils.
            if (MathF.Abs(y - NoseY - 3) < 2 && MathF.Abs(dx) < _noseWidth)
            {
                float nd = MathF.Sqrt(Sq((MathF.Abs(dx) - 0.45f * _noseWidth) / 1.4f) + Sq((y - NoseY - 3f) / 0.8f));
                if (nd < 1) c *= 0.35f + 0.65f * nd;
            }
            float mx = x - MouthX;
            if (MathF.Abs(y - MouthY) < 8 && MathF.Abs(mx) < MouthHalf + 2)
            {
                float w = MathF.Sqrt(MathF.Max(0, 1 - Sq(mx / (MouthHalf + 0.5f))));
                float upper = 3.2f * _lip * w, lower = 4.2f * _lip * w;
                float inside = y < MouthY ? Smooth(upper + 0.6f, upper - 0.6f, MouthY - y) : Smooth(lower + 0.6f, lower - 0.6f, y - MouthY);
                c = Vector3.Lerp(c, _lipColor, inside * 0.9f);
                if (mouthRow && MathF.Abs(mx) < MouthHalf) c = new Vector3(0.16f, 0.05f, 0.05f);
            }
            c = FacialHair(c, x, y, dx, theta);
            c = Eye(c, x, y, LeftEye, -1, closedEyes);
            c = Eye(c, x, y, RightEye, 1, closedEyes);
            if (y > NoseY - 5 && y < ChinBottom - 1 && co > 0.3f) region |= 1;
            foreach (var e in stackalloc Vector2[] { LeftEye, RightEye })
            {
                if (MathF.Abs(y - e.Y) < 6.5f && MathF.Abs(x - e.X) < 10.5f) region |= 2;
            }
            if (MathF.Abs(y - EyeY + 1) < 1.2f && MathF.Abs(dx) < 8) region |= 2;
            if (_glasses)
            {
                foreach (var e in stackalloc Vector2[] { LeftEye, RightEye })
                {
                    float gx = MathF.Abs(x - e.X), gy = MathF.Abs(y - e.Y + 0.5f);
                    if (gx < 10 && gy < 6.5f && (gx > 9 || gy > 5.5f)) c = new Vector3(0.08f, 0.07f, 0.07f);
                }
                if (MathF.Abs(y - EyeY + 1.5f) < 0.6f && MathF.Abs(dx) < 8) c = new Vector3(0.08f, 0.07f, 0.07f);
            }
        }
        float hair = HairAmount(theta, x, y);
        if (hair > 0)
        {
            float strand = 0.75f + 0.5f * StableRandom.ValueNoise(theta * 60, y / 6, _noiseSeed + 3);
            c = Vector3.Lerp(c, _hair * strand, hair);
        }
        return c;
    }

    private Vector3 Eye(Vector3 c, float x, float y, Vector2 e, int side, bool closed)
    {
        float ex = x - e.X, ey = y - e.Y;
        // Eyebrow: an arc above the eye, thinner towards its outer end.
        float t = side * (ex - side * 1f) / _browLength;
        if (MathF.Abs(t) <= 1.15f && ey < -3 && ey > -16)
        {
            float centre = -_browHeight - _browArch * (1 - t * t) - _browTilt * t;
            float half = _browThick * (1 - 0.45f * MathF.Max(0, t)) * Smooth(1.15f, 0.9f, MathF.Abs(t));
            float d = MathF.Abs(ey - centre);
            if (d < half + 0.5f)
            {
                float density = 0.7f + 0.3f * StableRandom.ValueNoise(x * 1.5f, y * 0.7f, _noiseSeed + 11);
                c = Vector3.Lerp(c, _brow, density * Smooth(half + 0.5f, half - 0.5f, d));
            }
        }
        if (MathF.Abs(ex) > _eyeHalfWidth + 1 || MathF.Abs(ey) > _eyeHalfHeight + 1.5f)
            return c;
        float across = 1 - Sq(ex / _eyeHalfWidth);
        if (closed)
        {
            float lid = 0.7f * _eyeHalfHeight * across;
            if (across > 0 && MathF.Abs(ey - lid) < 0.5f) return new Vector3(0.16f, 0.11f, 0.09f);
            return across > 0 && MathF.Abs(ey) < _eyeHalfHeight * across ? c * 0.92f : c;
        }
        float upper = _eyeHalfHeight * MathF.Pow(MathF.Max(0, across), 0.8f), lower = 0.8f * upper;
        bool inside = across > 0 && (ey < 0 ? -ey < upper : ey < lower);
        if (!inside)
        {
            // Upper lash line just above the opening.
            if (across > -0.1f && ey < 0 && -ey < upper + 0.7f) return new Vector3(0.2f, 0.14f, 0.12f);
            return c;
        }
        float r = MathF.Sqrt(ex * ex + ey * ey);
        if (r < 0.4f * _irisRadius) return new Vector3(0.02f, 0.02f, 0.02f);
        if (r < _irisRadius) return _iris * (0.8f + 0.35f * r / _irisRadius);
        return new Vector3(0.9f, 0.87f, 0.84f);
    }

    private Vector3 FacialHair(Vector3 c, float x, float y, float dx, float theta)
    {
        if (_facialHair == 0) return c;
        float mx = x - MouthX;
        float a = MathF.Abs(theta);
        bool lips = MathF.Abs(mx) < MouthHalf + 0.5f && y > MouthY - 3.5f * _lip && y < MouthY + 4.5f * _lip;
        if (lips) return c;
        bool moustache = y > NoseY + 4f && y < MouthY - 1.5f && MathF.Abs(mx) < MouthHalf + 2.5f - 0.4f * (MouthY - y);
        bool goatee = y > MouthY + 3 && MathF.Abs(mx) < MouthHalf * 0.8f + (y - MouthY) * 0.1f;
        bool beard = a < 1.7f && y > NoseY + 6 + 8 * Smooth(10, 30, MathF.Abs(dx)) - 14 * Smooth(1.0f, 1.5f, a) || moustache || goatee;
        bool covered = _facialHair switch
        {
            1 => beard,
            2 => moustache,
            3 => moustache || goatee,
            _ => beard,
        };
        if (!covered) return c;
        float density = _facialHair == 1 ? 0.35f * _facialHairDensity : _facialHairDensity;
        float hash = StableRandom.Hash01((int)(x * 2.5f), (int)(y * 2.5f), _noiseSeed + 5);
        return Vector3.Lerp(c, _hair * 0.8f, density * (0.55f + 0.45f * hash));
    }

    private static readonly Vector3[] SkinPalette =
    {
        new(0.30f, 0.19f, 0.13f), new(0.50f, 0.33f, 0.23f), new(0.70f, 0.50f, 0.38f),
        new(0.86f, 0.68f, 0.56f), new(0.96f, 0.81f, 0.72f),
    };

    private static readonly Vector3[] IrisPalette =
    {
        new(0.16f, 0.09f, 0.05f), new(0.32f, 0.18f, 0.08f), new(0.42f, 0.34f, 0.14f),
        new(0.28f, 0.42f, 0.24f), new(0.45f, 0.5f, 0.55f), new(0.3f, 0.45f, 0.68f),
    };

    private static Vector3 Palette(Vector3[] palette, float t)
    {
        float p = Math.Clamp(t, 0, 1) * (palette.Length - 1);
        int i = Math.Min((int)p, palette.Length - 2);
        return Vector3.Lerp(palette[i], palette[i + 1], p - i);
    }

    private static Vector3 SkinColor(float tone, float warmth)
    {
        var c = Palette(SkinPalette, tone);
        float w = (warmth - 0.5f) * 0.08f;
        return Vector3.Clamp(c + new Vector3(w, 0.3f * w, -w), Vector3.Zero, Vector3.One);
    }

    private static Vector3 HairColor(float darkness, float hue)
    {
        if (hue < 0.08f) return Vector3.Lerp(new Vector3(0.75f, 0.74f, 0.72f), new Vector3(0.4f, 0.4f, 0.4f), darkness);
        var natural = darkness < 0.5f
            ? Vector3.Lerp(new Vector3(0.78f, 0.64f, 0.42f), new Vector3(0.36f, 0.24f, 0.14f), darkness * 2)
            : Vector3.Lerp(new Vector3(0.36f, 0.24f, 0.14f), new Vector3(0.05f, 0.045f, 0.04f), darkness * 2 - 1);
        return hue > 0.85f ? Vector3.Lerp(natural, new Vector3(0.6f, 0.24f, 0.1f), 0.7f) : natural;
    }
}
