using System.Globalization;
using System.Reflection;

namespace Microsoft.ML.LH2Face;

public sealed partial class LH2FaceTrainer
{
    public sealed partial class Options
    {
        /// <summary>
        /// Sets a setting by its field name (case-insensitive) from text, as a command line or a sweep gives
        /// it: numbers in invariant culture, booleans true/false, enums by name, int arrays comma-separated
        /// (e.g. <c>Set("MarginCoefficient", "0.5")</c>, <c>Set("Head", "ArcFace")</c>, <c>Set("StepMilestones", "8,11")</c>).
        /// Settings that are objects (data views, callbacks, tokens) cannot be set from text.
        /// </summary>
        /// <returns>These options, for chaining.</returns>
        /// <exception cref="ArgumentException">The name is not a setting, or the value does not parse as its type; the message names both.</exception>
        public Options Set(string name, string value)
        {
            ArgumentNullException.ThrowIfNull(name);
            ArgumentNullException.ThrowIfNull(value);
            var field = typeof(Options).GetField(name.Trim(), BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (field is null || !IsTextSettable(field.FieldType))
                throw new ArgumentException(
                    $"'{name}' is not a setting of LH2FaceTrainer.Options that takes a text value: use one of {string.Join(", ", TextSettableNames())}.", nameof(name));
            field.SetValue(this, Parse(field, value.Trim()));
            return this;
        }

        /// <summary>The names <see cref="Set"/> accepts, in declaration order.</summary>
        public static IReadOnlyList<string> TextSettableNames()
            => typeof(Options).GetFields(BindingFlags.Public | BindingFlags.Instance).Where(f => IsTextSettable(f.FieldType)).Select(f => f.Name).ToList();

        private static bool IsTextSettable(Type type)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            return type.IsEnum || type == typeof(string) || type == typeof(bool) || type == typeof(int) || type == typeof(long)
                || type == typeof(float) || type == typeof(double) || type == typeof(int[]);
        }

        private static object? Parse(FieldInfo field, string text)
        {
            var type = Nullable.GetUnderlyingType(field.FieldType) ?? field.FieldType;
            var culture = CultureInfo.InvariantCulture;
            string Expected() => type.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(type))}" : type == typeof(int[]) ? "comma-separated integers" : $"a {type.Name}";
            ArgumentException Bad() => new($"Options.{field.Name} = '{text}' is not {Expected()}.", field.Name);
            if (type == typeof(string))
                return text;
            if (type.IsEnum)
                return Enum.TryParse(type, text, ignoreCase: true, out var e) && Enum.IsDefined(type, e!) ? e : throw Bad();
            if (type == typeof(bool))
                return bool.TryParse(text, out var b) ? b : throw Bad();
            if (type == typeof(int))
                return int.TryParse(text, NumberStyles.Integer, culture, out var i) ? i : throw Bad();
            if (type == typeof(long))
                return long.TryParse(text, NumberStyles.Integer, culture, out var l) ? l : throw Bad();
            if (type == typeof(float))
                return float.TryParse(text, NumberStyles.Float, culture, out var f) ? f : throw Bad();
            if (type == typeof(double))
                return double.TryParse(text, NumberStyles.Float, culture, out var d) ? d : throw Bad();
            var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var values = new int[parts.Length];
            for (int k = 0; k < parts.Length; k++)
                if (!int.TryParse(parts[k], NumberStyles.Integer, culture, out values[k]))
                    throw Bad();
            return values;
        }
    }
}
