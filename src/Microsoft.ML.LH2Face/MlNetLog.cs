using System.Reflection;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.LH2Face;

/// <summary>
/// Sends training messages to the ML.NET log (MLContext.Log) of the context whose catalog created the
/// trainer. TransformsCatalog keeps its environment behind an internal interface, so it is read by reflection; where that
/// fails (a future ML.NET), messages go only to Options.Progress and the training summary.
/// </summary>
internal static class MlNetLog
{
    public static Action<string> From(TransformsCatalog? catalog)
    {
        if (catalog is null)
            return _ => { };
        // TransformsCatalog implements the internal IInternalCatalog.Environment explicitly.
        var property = catalog.GetType().GetInterfaces()
            .Where(i => i.Name == "IInternalCatalog")
            .Select(i => i.GetProperty("Environment", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public))
            .FirstOrDefault(p => p is not null);
        if (property?.GetValue(catalog) is not IChannelProvider provider)
            return _ => { };
        return message =>
        {
            using var channel = provider.Start("LH2Face");
            channel.Info(MessageSensitivity.None, message);
        };
    }
}
