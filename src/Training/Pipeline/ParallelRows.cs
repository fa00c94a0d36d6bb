using System.Runtime.ExceptionServices;

namespace Sft.Training.Pipeline;

/// <summary>Parallel.For over dataset rows that rethrows the first row's own exception (it names the file and row), not an AggregateException.</summary>
internal static class ParallelRows
{
    public static void For(int count, Action<int> body, int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism, CancellationToken = cancellationToken }, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }
}
