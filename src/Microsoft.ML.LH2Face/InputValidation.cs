using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Settings;
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
    /// <summary>Maps the options into per-component settings and checks them (<see cref="TrainerSettings.Check"/>).</summary>
    public static TrainerSettings CheckOptions(LH2FaceTrainer.Options o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var settings = TrainerSettings.From(o);
        settings.Check();
        return settings;
    }

    /// <summary>Checks the columns of a schema shape (before Fit: vector lengths are not known there).</summary>
    public static void Check(SchemaShape schema, TrainerSettings o)
    {
        if (!TryFind(schema, o.Columns.Label, out var label))
            throw MissingLabel(o.Columns.Label);
        if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw LabelNotKey(o.Columns.Label, label.ItemType?.ToString() + (label.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : " vector"));
        if (!TryFind(schema, o.Columns.Image, out var image))
            throw MissingImage(o);
        bool isImage = image.Kind == SchemaShape.Column.VectorKind.Scalar && image.ItemType is ImageDataViewType;
        bool isPixels = image.Kind == SchemaShape.Column.VectorKind.Vector && image.ItemType == NumberDataViewType.Single;
        if (!isImage && !isPixels)
            throw WrongImageType(o, Describe(image));
    }

    /// <summary>Checks a concrete schema, including the pixel vector length; returns the image column kind.</summary>
    public static ImageInputKind Check(DataViewSchema schema, TrainerSettings o, string dataName = "input")
    {
        var label = schema.GetColumnOrNull(o.Columns.Label) ?? throw MissingLabel(o.Columns.Label, dataName);
        if (label.Type is not KeyDataViewType)
            throw LabelNotKey(o.Columns.Label, label.Type.ToString() ?? "?", dataName);
        if (label.Type.RawType != typeof(uint))
            throw new ArgumentException($"Column '{o.Columns.Label}' of the {dataName} must be a UInt32 key (got {label.Type}): use MapValueToKey with the default key type.", nameof(schema));
        return CheckImage(schema, o, dataName);
    }

    /// <summary>Checks the image column of a concrete schema (scoring needs no label).</summary>
    public static ImageInputKind CheckImage(DataViewSchema schema, TrainerSettings o, string dataName = "input")
        => CheckImage(schema, o.Columns.Image, o.Backbone.InputSize, dataName);

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

    private static ArgumentException MissingImage(TrainerSettings o) => MissingImage(o.Columns.Image, o.Backbone.InputSize, "input");

    private static ArgumentException MissingImage(string name, int size, string dataName)
        => new($"Column '{name}' was not found in the {dataName}: LH2Face needs an MLImage column (LoadImages) or planar RGB pixels, a Single vector of 3*{size}*{size} values (ExtractPixels(interleavePixelColors: false)). Set imageColumnName.");

    private static ArgumentException WrongImageType(TrainerSettings o, string found) => WrongImageType(o.Columns.Image, o.Backbone.InputSize, found, "input");

    private static ArgumentException WrongImageType(string name, int size, string found, string dataName)
        => new($"Column '{name}' of the {dataName} must be an MLImage or a Single vector of 3*{size}*{size} planar RGB values (got {found}): use LoadImages, or ExtractPixels(interleavePixelColors: false) after ResizeImages.");
}
