using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Microsoft.ML.Transforms.Onnx;

namespace Microsoft.ML.LH2Face.Data.Embedding;

/// <summary>
/// Embeds with an ML.NET model.zip (as this project saves it: image preprocessing plus the ONNX
/// scorer), loaded with <c>MLContext.Model.Load</c>. The input schema returned by Load decides what is
/// fed: an <see cref="MLImage"/> column "Image", a planar float vector column "Image" (3 x s x s), or a
/// text column "ImagePath" read by the pipeline's own LoadImages (images are then written to temporary
/// PNG files; a text column "Identity", which 'lh2face train' models also take, is fed empty). A model
/// whose saved input schema has none of these (ML.NET leaves image columns out of it) is probed with an
/// MLImage column "Image" of the given input size. The output must hold a
/// float vector column "Embedding"; other outputs (e.g. "Quality") are ignored.
/// </summary>
public sealed class MlNetModelEmbedder : IFaceEmbedder
{
    /// <summary>Name of the image input column.</summary>
    public const string ImageColumn = "Image";

    /// <summary>Name of the image path input column (pipelines that start with LoadImages).</summary>
    public const string ImagePathColumn = "ImagePath";

    /// <summary>Name of the embedding output column.</summary>
    public const string EmbeddingColumn = "Embedding";

    private enum InputKind
    {
        Image,
        Pixels,
        Path,
    }

    private readonly MLContext context;
    private readonly ITransformer model;
    private readonly DataViewType inputType;
    private readonly InputKind kind;
    private readonly DataViewSchema outputSchema;
    private readonly string imageColumn;
    private readonly string embeddingColumn;

    /// <summary>Loads a model.zip.</summary>
    /// <param name="modelPath">Path of the model.zip.</param>
    /// <param name="inputSize">Crop side the model expects (used for MLImage and path inputs, where the schema does not say).</param>
    /// <param name="context">ML.NET context; a new one with seed 0 when null.</param>
    /// <param name="imageColumn">Name of the image input column (a model.zip of this library names it in its metadata:
    /// <c>LH2FaceModelFile.Verify(path).ImageColumnName</c>).</param>
    /// <param name="embeddingColumn">Name of the embedding output column (likewise <c>EmbeddingColumnName</c>).</param>
    public MlNetModelEmbedder(string modelPath, int inputSize = 112, MLContext? context = null, string imageColumn = ImageColumn, string embeddingColumn = EmbeddingColumn)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(imageColumn);
        ArgumentException.ThrowIfNullOrWhiteSpace(embeddingColumn);
        this.imageColumn = imageColumn;
        this.embeddingColumn = embeddingColumn;
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"Model '{modelPath}' does not exist: pass the model.zip saved with mlContext.Model.Save.", modelPath);
        this.context = context ?? new MLContext(seed: 0);
        // The ONNX scorer lives in its own assembly: register it so Load finds its loader.
        this.context.ComponentCatalog.RegisterAssembly(typeof(OnnxTransformer).Assembly);
        model = this.context.Model.Load(modelPath, out DataViewSchema schema);
        InputSize = inputSize;

        DataViewSchema? saved = schema;
        var image = saved?.GetColumnOrNull(imageColumn);
        var path = saved?.GetColumnOrNull(ImagePathColumn);
        if (image?.Type is ImageDataViewType savedImage)
        {
            kind = InputKind.Image;
            inputType = MLImageTypes.For(savedImage.Width, savedImage.Height);
        }
        else if (image?.Type is VectorDataViewType vector && vector.ItemType == NumberDataViewType.Single && vector.Size > 0)
        {
            int side = (int)Math.Round(Math.Sqrt(vector.Size / 3.0));
            if (3 * side * side != vector.Size)
                throw new ArgumentException($"Model '{modelPath}' takes column '{imageColumn}' as {vector.Size} floats, which is not planar RGB 3*s*s: this embedder cannot feed it.", nameof(modelPath));
            kind = InputKind.Pixels;
            inputType = vector;
            InputSize = side;
        }
        else if (path?.Type is TextDataViewType)
        {
            kind = InputKind.Path;
            inputType = path.Value.Type;
        }
        else
        {
            // ML.NET leaves image columns out of the saved input schema (it cannot serialise them): a model
            // trained on an MLImage column comes back without it, alone or among other columns. Probe with an
            // MLImage column of the expected size.
            kind = InputKind.Image;
            inputType = MLImageTypes.For(inputSize, inputSize);
            var probe = new DataViewSchema.Builder();
            probe.AddColumn(imageColumn, inputType);
            schema = probe.ToSchema();
        }

        DataViewSchema.Column? output;
        try
        {
            outputSchema = model.GetOutputSchema(schema);
            output = outputSchema.GetColumnOrNull(embeddingColumn);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            string savedColumns = saved is null || saved.Count == 0 ? "" : $" (its saved input columns: {string.Join(", ", saved.Select(c => $"{c.Name}: {c.Type}"))})";
            throw new ArgumentException($"Model '{modelPath}'{savedColumns} does not accept a {inputType} column '{(kind == InputKind.Path ? ImagePathColumn : imageColumn)}': {e.Message}. " +
                $"This embedder feeds an MLImage or planar float column '{imageColumn}', or a text column '{ImagePathColumn}'.", nameof(modelPath), e);
        }
        if (output?.Type is not VectorDataViewType { ItemType: NumberDataViewType } outputVector || outputVector.ItemType != NumberDataViewType.Single)
            throw new ArgumentException($"Model '{modelPath}' has no float vector output column '{embeddingColumn}' (got {output?.Type.ToString() ?? "none"}): save the scoring model of an LH2Face trainer.", nameof(modelPath));
    }

    /// <inheritdoc />
    public int InputSize { get; }

    /// <inheritdoc />
    public float[][] Embed(IReadOnlyList<MLImage> images, bool flipTest, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        var result = Run(images);
        if (!flipTest)
        {
            progress?.Report(images.Count);
            return result;
        }
        var flipped = new List<MLImage>(images.Count);
        try
        {
            for (int i = 0; i < images.Count; i++)
                flipped.Add(Flip(images[i], i));
            return Sum(result, Run(flipped), progress, images.Count);
        }
        finally
        {
            foreach (var f in flipped)
                f.Dispose();
        }
    }

    /// <inheritdoc />
    public float[][] Embed(IReadOnlyList<float[]> planarImages, bool flipTest, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(planarImages);
        for (int i = 0; i < planarImages.Count; i++)
            PlanarImage.CheckPlanar(planarImages[i], InputSize, i);
        var result = RunPlanar(planarImages);
        if (flipTest)
            return Sum(result, RunPlanar(planarImages.Select(p => PlanarImage.FlipHorizontal(p, InputSize)).ToArray()), progress, planarImages.Count);
        progress?.Report(planarImages.Count);
        return result;
    }

    /// <summary>
    /// Size of the model's float vector output column <paramref name="column"/> (e.g. the renderer's
    /// "CanonicalFace", 3 * R * R), or null when the model has no such column.
    /// </summary>
    public int? OutputVectorSize(string column)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(column);
        return outputSchema.GetColumnOrNull(column)?.Type is VectorDataViewType { Size: > 0 } vector && vector.ItemType == NumberDataViewType.Single
            ? vector.Size
            : null;
    }

    /// <summary>The values of the float vector output column <paramref name="column"/> for each image (no flip).</summary>
    public float[][] Score(IReadOnlyList<MLImage> images, string column)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (OutputVectorSize(column) is null)
            throw new ArgumentException($"The model has no float vector output column '{column}' (a model trained with Options.UseRenderer has 'Reconstruction' and 'CanonicalFace').", nameof(column));
        return Run(images, column);
    }

    /// <inheritdoc />
    public void Dispose() => (model as IDisposable)?.Dispose();

    private float[][] Run(IReadOnlyList<MLImage> images, string? column = null)
    {
        float[][] result;
        switch (kind)
        {
            case InputKind.Image:
                var definition = SchemaDefinition.Create(typeof(ImageRow));
                definition[ImageColumn].ColumnType = inputType;
                definition[ImageColumn].ColumnName = imageColumn;
                // ML.NET's image transforms dispose the images they read: feed copies, keep the caller's.
                var copies = images.Select((image, i) => Copy(image, i)).ToArray();
                try
                {
                    result = Transform(context.Data.LoadFromEnumerable(copies.Select(c => new ImageRow { Image = c }), definition), column);
                }
                finally
                {
                    foreach (var c in copies)
                        c.Dispose();
                }
                break;
            case InputKind.Pixels:
                result = RunPlanar(images.Select((image, i) => PlanarImage.FromImage(image, InputSize, i)).ToArray(), column);
                break;
            default:
                string folder = Directory.CreateTempSubdirectory("lh2face-embed-").FullName;
                try
                {
                    var rows = new PathRow[images.Count];
                    for (int i = 0; i < images.Count; i++)
                    {
                        rows[i] = new PathRow { ImagePath = Path.Combine(folder, $"{i}.png") };
                        images[i].Save(rows[i].ImagePath);
                    }
                    result = Transform(context.Data.LoadFromEnumerable(rows), column);
                }
                finally
                {
                    Directory.Delete(folder, recursive: true);
                }
                break;
        }
        return result;
    }

    private float[][] RunPlanar(IReadOnlyList<float[]> planarImages, string? column = null)
    {
        if (kind != InputKind.Pixels)
        {
            var images = planarImages.Select(p => PlanarImage.ToImage(p, InputSize)).ToArray();
            try
            {
                return Run(images, column);
            }
            finally
            {
                foreach (var image in images)
                    image.Dispose();
            }
        }
        var definition = SchemaDefinition.Create(typeof(PixelRow));
        definition[ImageColumn].ColumnType = inputType;
        definition[ImageColumn].ColumnName = imageColumn;
        return Transform(context.Data.LoadFromEnumerable(planarImages.Select(p => new PixelRow { Image = p }), definition), column);
    }

    private float[][] Transform(IDataView input, string? name)
    {
        var scored = model.Transform(input);
        var column = scored.Schema[name ?? embeddingColumn];
        var result = new List<float[]>();
        using var cursor = scored.GetRowCursor(new[] { column });
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            result.Add(buffer.DenseValues().ToArray());
        }
        return result.ToArray();
    }

    private static float[][] Sum(float[][] a, float[][] b, IProgress<int>? progress, int count)
    {
        for (int i = 0; i < a.Length; i++)
            System.Numerics.Tensors.TensorPrimitives.Add(a[i], b[i], a[i]);
        progress?.Report(count);
        return a;
    }

    private static MLImage Copy(MLImage image, int index)
    {
        ArgumentNullException.ThrowIfNull(image, $"images[{index}]");
        return MLImage.CreateFromPixels(image.Width, image.Height, image.PixelFormat, image.Pixels);
    }

    private static MLImage Flip(MLImage image, int index)
    {
        ArgumentNullException.ThrowIfNull(image, $"images[{index}]");
        ReadOnlySpan<byte> pixels = image.Pixels;
        int stride = pixels.Length / image.Height;
        var flipped = new byte[pixels.Length];
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
                pixels.Slice(y * stride + 4 * x, 4).CopyTo(flipped.AsSpan(y * stride + 4 * (image.Width - 1 - x), 4));
        }
        return MLImage.CreateFromPixels(image.Width, image.Height, image.PixelFormat, flipped);
    }

    /// <summary>An image row; the attribute only makes MLImage a known column type, the size is replaced by the model's.</summary>
    private sealed class ImageRow
    {
        [ImageType(112, 112)]
        public MLImage Image { get; set; } = null!;
    }

    private sealed class PixelRow
    {
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    /// <summary>A path row; Identity is the label column of the pipelines 'lh2face train' saves (empty when scoring).</summary>
    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";

        public string Identity { get; set; } = "";
    }
}
