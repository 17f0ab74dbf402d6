using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.LH2Face.Data;

/// <summary>
/// Image column types of any size. ML.NET maps <see cref="MLImage"/> members to an <see cref="ImageDataViewType"/>
/// only for sizes some <see cref="ImageTypeAttribute"/> registered; other sizes fail at the first cursor with
/// "Type 'MLImage' is not yet supported". This registers each size once per process.
/// </summary>
internal static class MLImageTypes
{
    private static readonly object Gate = new();
    private static readonly HashSet<(int, int)> Registered = new();

    /// <summary>The image type of <paramref name="width"/> x <paramref name="height"/>, registered for MLImage.</summary>
    public static ImageDataViewType For(int width, int height)
    {
        var type = new ImageDataViewType(height, width);
        lock (Gate)
        {
            if (Registered.Contains((width, height)))
                return type;
            try
            {
                DataViewTypeManager.Register(type, typeof(MLImage), new ImageTypeAttribute(height, width));
            }
            catch (ArgumentException)
            {
                // Registered before by an attribute on a user's class (ML.NET does that for [ImageType(h, w)]).
            }
            Registered.Add((width, height));
        }
        return type;
    }
}
