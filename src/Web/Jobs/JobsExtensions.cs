using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Sft.Web.Jobs;

public static class JobsExtensions
{
    /// <summary>Job submission and the Hangfire job that trains (<see cref="JobService"/>, <see cref="JobRunner"/>).</summary>
    public static IServiceCollection AddSftJobs(this IServiceCollection services)
    {
        services.AddSingleton<RunningJobs>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddScoped<JobService>();
        services.AddScoped<JobRunner>();
        return services;
    }
}
