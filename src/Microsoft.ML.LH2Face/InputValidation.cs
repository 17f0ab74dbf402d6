using static Microsoft.ML.LH2Face.OptionChecks;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.LH2Face;

/// <summary>What kind of image column the model reads.</summary>
internal enum ImageInputKind
{
    /// <summary>MLImage of any size: resized to the model input and turned into planar pixels.</summary>
    Image,

    /// <summary>Planar RGB Single vector of 3 * S * S values in 0..255.</summary>
    Pixels,
}

/// <summary>User-facing checks of options and input columns; every message names the problem and the fix.</summary>
internal static class InputValidation
{
    public static void CheckOptions(LH2FaceTrainer.Options o)
    {
        ArgumentNullException.ThrowIfNull(o);
        Require(!string.IsNullOrWhiteSpace(o.LabelColumnName), nameof(o.LabelColumnName), "must name the key-typed identity label column");
        Require(!string.IsNullOrWhiteSpace(o.ImageColumnName), nameof(o.ImageColumnName), "must name the image column");
        Require(!string.IsNullOrWhiteSpace(o.EmbeddingColumnName), nameof(o.EmbeddingColumnName), "must name the output embedding column");
        Require(!string.IsNullOrWhiteSpace(o.QualityColumnName), nameof(o.QualityColumnName), "must name the output quality column");
        Require(o.EmbeddingColumnName != o.QualityColumnName, nameof(o.QualityColumnName), $"must differ from EmbeddingColumnName ('{o.EmbeddingColumnName}')");
        Require(o.InputSize is >= 16 and <= 1024, nameof(o.InputSize), $"is {o.InputSize}; use 16..1024 (112 for insightface crops)");
        Require(o.EmbeddingSize is >= 2 and <= 8192, nameof(o.EmbeddingSize), $"is {o.EmbeddingSize}; use 2..8192 (512 is usual)");
        Require(o.DropoutRate is >= 0 and < 1, nameof(o.DropoutRate), $"is {o.DropoutRate}; use 0 <= rate < 1");
        Require(o.Epochs >= 1, nameof(o.Epochs), $"is {o.Epochs}; use at least 1");
        Require(o.BatchSize >= 2, nameof(o.BatchSize), $"is {o.BatchSize}; batch norm needs at least 2");
        Require(o.LearningRate > 0 && float.IsFinite(o.LearningRate), nameof(o.LearningRate), $"is {o.LearningRate}; use a positive rate");
        Require(o.WeightDecay >= 0, nameof(o.WeightDecay), $"is {o.WeightDecay}; use 0 or more");
        Require(o.WarmupEpochs >= 0 && o.WarmupEpochs <= o.Epochs, nameof(o.WarmupEpochs), $"is {o.WarmupEpochs}; use 0..Epochs");
        Require(o.GradientClipNorm >= 0, nameof(o.GradientClipNorm), $"is {o.GradientClipNorm}; use 0 (off) or a positive norm");
        Require(o.Scale > 0, nameof(o.Scale), $"is {o.Scale}; use a positive logit scale (64 in ArcFace and CosFace)");
        Require(o.KappaMin > 0 && o.KappaMax > o.KappaMin, nameof(o.KappaMax), $"KappaMin = {o.KappaMin}, KappaMax = {o.KappaMax}; need 0 < KappaMin < KappaMax");
        Require(o.NormMomentum is > 0 and <= 1, nameof(o.NormMomentum), $"is {o.NormMomentum}; use 0 < momentum <= 1");
        Require(o.MaxSteps >= 0, nameof(o.MaxSteps), $"is {o.MaxSteps}; use 0 (all epochs) or a positive count");
        Require(o.EarlyStoppingPatience >= 0, nameof(o.EarlyStoppingPatience), $"is {o.EarlyStoppingPatience}; use 0 (off) or more");
        Require(o.EarlyStoppingPatience == 0 || o.ValidationSet is not null, nameof(o.EarlyStoppingPatience), "needs a ValidationSet to measure improvement");
        Require(o.CheckpointEveryNSteps >= 0, nameof(o.CheckpointEveryNSteps), $"is {o.CheckpointEveryNSteps}; use 0 (end only) or more");
        Require(o.CheckpointEveryNSteps == 0 || o.CheckpointDirectory is not null, nameof(o.CheckpointEveryNSteps), "needs a CheckpointDirectory to write to");
        Require(o.StepMilestones is not null, nameof(o.StepMilestones), "must not be null");
        Require(Enum.IsDefined(o.Backbone), nameof(o.Backbone), $"'{o.Backbone}' is unknown");
        Require(Enum.IsDefined(o.Head), nameof(o.Head), $"'{o.Head}' is unknown");
        Losses.LossOptionsValidation.Check(o);
    }


    /// <summary>Checks the columns of a schema shape (before Fit: vector lengths are not known there).</summary>
    public static void Check(SchemaShape schema, LH2FaceTrainer.Options o)
    {
        if (!TryFind(schema, o.LabelColumnName, out var label))
            throw MissingLabel(o.LabelColumnName);
        if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw LabelNotKey(o.LabelColumnName, label.ItemType?.ToString() + (label.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : " vector"));
        if (!TryFind(schema, o.ImageColumnName, out var image))
            throw MissingImage(o);
        bool isImage = image.Kind == SchemaShape.Column.VectorKind.Scalar && image.ItemType is ImageDataViewType;
        bool isPixels = image.Kind == SchemaShape.Column.VectorKind.Vector && image.ItemType == NumberDataViewType.Single;
        if (!isImage && !isPixels)
            throw WrongImageType(o, Describe(image));
    }

    /// <summary>Checks a concrete schema, including the pixel vector length; returns the image column kind.</summary>
    public static ImageInputKind Check(DataViewSchema schema, LH2FaceTrainer.Options o, string dataName = "input")
    {
        var label = schema.GetColumnOrNull(o.LabelColumnName) ?? throw MissingLabel(o.LabelColumnName, dataName);
        if (label.Type is not KeyDataViewType)
            throw LabelNotKey(o.LabelColumnName, label.Type.ToString() ?? "?", dataName);
        if (label.Type.RawType != typeof(uint))
            throw new ArgumentException($"Column '{o.LabelColumnName}' of the {dataName} must be a UInt32 key (got {label.Type}): use MapValueToKey with the default key type.", nameof(schema));
        return CheckImage(schema, o, dataName);
    }

    /// <summary>Checks the image column of a concrete schema (scoring needs no label).</summary>
    public static ImageInputKind CheckImage(DataViewSchema schema, LH2FaceTrainer.Options o, string dataName = "input")
        => CheckImage(schema, o.ImageColumnName, o.InputSize, dataName);

    public static ImageInputKind CheckImage(DataViewSchema schema, string imageColumn, int inputSize, string dataName = "input")
    {
        var image = schema.GetColumnOrNull(imageColumn) ?? throw MissingImage(imageColumn, inputSize, dataName);
        if (image.Type is ImageDataViewType)
            return ImageInputKind.Image;
        if (image.Type is VectorDataViewType vector && vector.ItemType == NumberDataViewType.Single)
        {
            int expected = 3 * inputSize * inputSize;
            if (vector.Size != expected)
            {
                throw new ArgumentException(
                    $"Column '{imageColumn}' of the {dataName} has {(vector.IsKnownSize ? vector.Size.ToString() : "a variable number of")} values per row; " +
                    $"the model input needs planar RGB 3*{inputSize}*{inputSize} = {expected}: ResizeImages to {inputSize}x{inputSize} before ExtractPixels(interleavePixelColors: false), " +
                    "or pass the MLImage column itself and let LH2Face resize it.", nameof(schema));
            }
            return ImageInputKind.Pixels;
        }
        throw WrongImageType(imageColumn, inputSize, image.Type.ToString() ?? "?", dataName);
    }

    private static bool TryFind(SchemaShape schema, string name, out SchemaShape.Column column)
    {
        foreach (var c in schema)
        {
            if (c.Name == name)
            {
                column = c;
                return true;
            }
        }
        column = default;
        return false;
    }

    private static string Describe(SchemaShape.Column c)
        => (c.Kind == SchemaShape.Column.VectorKind.Scalar ? c.ItemType?.ToString() : $"{c.Kind} of {c.ItemType}") ?? "?";

    private static ArgumentException MissingLabel(string name, string dataName = "input")
        => new($"Column '{name}' was not found in the {dataName}: LH2Face needs a key-typed identity label. Set labelColumnName, or add MapValueToKey(\"{name}\", <identity column>) before LH2Face.");

    private static ArgumentException LabelNotKey(string name, string found, string dataName = "input")
        => new($"Column '{name}' of the {dataName} must be a key type (got {found}): add MapValueToKey before LH2Face.");

    private static ArgumentException MissingImage(LH2FaceTrainer.Options o) => MissingImage(o.ImageColumnName, o.InputSize, "input");

    private static ArgumentException MissingImage(string name, int size, string dataName)
        => new($"Column '{name}' was not found in the {dataName}: LH2Face needs an MLImage column (LoadImages) or planar RGB pixels, a Single vector of 3*{size}*{size} values (ExtractPixels(interleavePixelColors: false)). Set imageColumnName.");

    private static ArgumentException WrongImageType(LH2FaceTrainer.Options o, string found) => WrongImageType(o.ImageColumnName, o.InputSize, found, "input");

    private static ArgumentException WrongImageType(string name, int size, string found, string dataName)
        => new($"Column '{name}' of the {dataName} must be an MLImage or a Single vector of 3*{size}*{size} planar RGB values (got {found}): use LoadImages, or ExtractPixels(interleavePixelColors: false) after ResizeImages.");
}
