namespace Microsoft.ML.LH2Face;

/// <summary>Catalog entry points: <c>mlContext.Transforms.LH2Face(...)</c>.</summary>
public static class LH2FaceCatalog
{
    /// <summary>
    /// Trains a face-embedding model with the LH2Face loss. <paramref name="labelColumnName"/> must be a
    /// key (MapValueToKey); <paramref name="imageColumnName"/> an MLImage of any size or a planar RGB
    /// Single vector of 3*inputSize*inputSize values in 0..255.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="labelColumnName">Key-typed identity label column.</param>
    /// <param name="imageColumnName">Image column.</param>
    /// <param name="embeddingColumnName">Output embedding column.</param>
    /// <param name="backbone">Backbone network (Compact for CPUs).</param>
    /// <param name="inputSize">Side of the network input in pixels.</param>
    /// <param name="embeddingSize">Embedding dimension.</param>
    /// <param name="epochs">Passes over the training data.</param>
    /// <param name="batchSize">Images per step.</param>
    public static LH2FaceTrainer LH2Face(this TransformsCatalog catalog,
        string labelColumnName = "Label",
        string imageColumnName = "Image",
        string embeddingColumnName = "Embedding",
        LH2FaceBackbone backbone = LH2FaceBackbone.IResNet50,
        int inputSize = 112,
        int embeddingSize = 512,
        int epochs = 20,
        int batchSize = 128)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new LH2FaceTrainer(new LH2FaceTrainer.Options
        {
            LabelColumnName = labelColumnName,
            ImageColumnName = imageColumnName,
            EmbeddingColumnName = embeddingColumnName,
            Backbone = backbone,
            InputSize = inputSize,
            EmbeddingSize = embeddingSize,
            Epochs = epochs,
            BatchSize = batchSize,
        }, catalog);
    }

    /// <summary>Trains a face-embedding model with every setting given in <paramref name="options"/>.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">All trainer settings.</param>
    public static LH2FaceTrainer LH2Face(this TransformsCatalog catalog, LH2FaceTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new LH2FaceTrainer(options, catalog);
    }
}
