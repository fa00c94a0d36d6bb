namespace Sft.Training.Pipeline;

/// <summary>
/// Where the data stream is: the epoch, how many samples of that epoch's order were consumed, and (packing strategy
/// "truncate" only) how many tokens of the next sample already went into earlier rows. Saved with a checkpoint, it
/// makes a resumed run take exactly the next batch (the order is recomputed from the seed; no seen sample is read again).
/// </summary>
public readonly record struct DataCursor(int Epoch, int Index, int Offset = 0)
{
    public static DataCursor Start => new(0, 0);
}
