using System.Collections;
using System.Reflection;
using Microsoft.ML.Data;
using Microsoft.ML.LH2Face.Settings;

namespace Microsoft.ML.LH2Face.Tests.Settings;

[TestClass]
public sealed class TrainerSettingsTests
{
    /// <summary>
    /// Every public field of the options reaches the settings: changed one at a time (the renderer on, so its fields
    /// count), each changes the mapped settings, and changes them in one place only.
    /// </summary>
    [TestMethod]
    public void From_EachOptionField_ChangesExactlyOneSetting()
    {
        static LH2FaceTrainer.Options Base() => new() { UseRenderer = true, RendererResolution = 64 };
        var before = Flatten(TrainerSettings.From(Base()));
        var fields = typeof(LH2FaceTrainer.Options).GetFields(BindingFlags.Public | BindingFlags.Instance);
        Assert.IsTrue(fields.Length > 70, $"found {fields.Length} option fields");
        foreach (var field in fields)
        {
            var options = Base();
            field.SetValue(options, Different(field.FieldType, field.GetValue(options)));
            var after = Flatten(TrainerSettings.From(options));
            var changed = before.Keys.Where(k => before[k] != after[k]).ToList();
            if (field.Name == nameof(LH2FaceTrainer.Options.UseRenderer))
            {
                Assert.IsTrue(changed.Count > 1 && changed.All(k => k.StartsWith("Network.Renderer", StringComparison.Ordinal)), $"UseRenderer: {string.Join(", ", changed)}");
                continue;
            }
            // The embedding size is the backbone's and, for descriptions, the head's.
            int expected = field.Name == nameof(LH2FaceTrainer.Options.EmbeddingSize) ? 2 : 1;
            Assert.AreEqual(expected, changed.Count, $"{field.Name} changed {string.Join(", ", changed)}");
        }
    }

    [TestMethod]
    public void From_IsASnapshot_LaterChangesToTheOptionsDoNotReachIt()
    {
        var options = new LH2FaceTrainer.Options { StepMilestones = new[] { 3, 5 }, EmbeddingSize = 64 };
        var settings = TrainerSettings.From(options);
        options.StepMilestones[0] = 4;
        options.EmbeddingSize = 128;
        CollectionAssert.AreEqual(new[] { 3, 5 }, settings.Schedule.StepMilestones);
        Assert.AreEqual(64, settings.Backbone.EmbeddingSize);
        Assert.AreEqual(64, settings.Loss.Head.EmbeddingSize);
        Assert.AreSame(settings.Network.Head, settings.Loss.Head, "one head settings object for the network and the loss");
    }

    [TestMethod]
    public void Trainer_OptionsChangedAfterCreation_KeepsTheSettingsItWasCreatedWith()
    {
        var ml = new MLContext(seed: 1);
        var options = TestFaces.QuickOptions();
        options.ImageColumnName = nameof(PixelRow.Pixels);
        options.EmbeddingSize = 24;
        var trainer = ml.Transforms.LH2Face(options);
        options.EmbeddingSize = 48;
        options.EmbeddingColumnName = "Other";
        var data = TestFaces.PixelData(ml, TestFaces.PixelRows(2, 2, options.InputSize, 1), options.InputSize);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", nameof(PixelRow.Identity)).Fit(data).Transform(data);
        var shape = trainer.GetOutputSchema(TestFaces.ShapeOf(keyed.Schema));
        Assert.IsTrue(shape.Any(c => c.Name == "Embedding"), "the column named when the trainer was created");
        Assert.IsFalse(shape.Any(c => c.Name == "Other"));
        Assert.AreSame(options, trainer.TrainerOptions);
    }

    [TestMethod]
    public void Check_FirstProblemOfEachComponent_NamesTheOption()
    {
        // One bad value per settings record: the message names the LH2FaceTrainer.Options field, whichever record holds it.
        var cases = new (Action<LH2FaceTrainer.Options> Set, string Option)[]
        {
            (o => o.QualityColumnName = "", nameof(LH2FaceTrainer.Options.QualityColumnName)),
            (o => o.DropoutRate = 1, nameof(LH2FaceTrainer.Options.DropoutRate)),
            (o => o.BatchSize = 1, nameof(LH2FaceTrainer.Options.BatchSize)),
            (o => o.KappaMin = 0, nameof(LH2FaceTrainer.Options.KappaMax)),
            (o => o.CheckpointEveryNSteps = 5, nameof(LH2FaceTrainer.Options.CheckpointEveryNSteps)),
            (o => o.KappaRankingShare = 0, nameof(LH2FaceTrainer.Options.KappaRankingShare)),
            (o => o.ProxyAlpha = 100, nameof(LH2FaceTrainer.Options.ProxyAlpha)),
            (o => { o.UseRenderer = true; o.RendererResolution = 24; }, nameof(LH2FaceTrainer.Options.RendererResolution)),
        };
        foreach (var (set, option) in cases)
        {
            var options = new LH2FaceTrainer.Options();
            set(options);
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TrainerSettings.From(options).Check(), option);
            Assert.AreEqual(option, e.ParamName);
            StringAssert.StartsWith(e.Message, $"LH2FaceTrainer.Options.{option} ");
        }
    }

    /// <summary>Every leaf value of a settings record by its path ("Network.Head.Scale"), arrays written out.</summary>
    private static Dictionary<string, string> Flatten(object value)
    {
        var leaves = new Dictionary<string, string>();
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        void Walk(object? v, string path, Type type)
        {
            if (type.Namespace == typeof(TrainerSettings).Namespace && type.IsClass && !type.IsArray)
            {
                // A record reached twice (the head settings of the network and of the loss) counts once.
                if (v is not null && !seen.Add(v))
                    return;
                foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.DeclaringType == type))
                {
                    // The record's own parameters; computed shortcuts (TrainerSettings.Backbone, .Renderer) repeat a path.
                    if (type.GetConstructors().Single().GetParameters().Any(a => a.Name == p.Name))
                        Walk(v is null ? null : p.GetValue(v), path.Length == 0 ? p.Name : $"{path}.{p.Name}", p.PropertyType);
                }
                if (v is null)
                    leaves[path] = "null";
                return;
            }
            leaves[path] = v switch
            {
                null => "null",
                IEnumerable e and not string => string.Join(",", e.Cast<object>()),
                CancellationToken t => t.CanBeCanceled.ToString(),
                _ => v is IDataView or IProgress<LH2FaceProgress> ? $"{v.GetType().Name}#{System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(v)}" : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!,
            };
        }
        Walk(value, "", value.GetType());
        return leaves;
    }

    private static object? Different(Type type, object? current)
    {
        if (type == typeof(bool)) return !(bool)current!;
        if (type == typeof(int)) return (int)current! + 1;
        if (type == typeof(long)) return (long)current! + 1;
        if (type == typeof(float)) return (float)current! + 0.25f;
        if (type == typeof(string)) return (current as string ?? "dir") + "X";
        if (type == typeof(int[])) return new[] { 7 };
        if (type.IsEnum) return Enum.GetValues(type).Cast<object>().First(v => !v.Equals(current));
        if (type == typeof(IDataView)) return TestFaces.PixelData(new MLContext(seed: 1), TestFaces.PixelRows(1, 1, 16, 1), 16);
        if (type == typeof(IProgress<LH2FaceProgress>)) return new Progress<LH2FaceProgress>();
        if (type == typeof(CancellationToken)) return new CancellationTokenSource().Token;
        throw new AssertFailedException($"No different value for a field of type {type}: extend Different.");
    }
}
