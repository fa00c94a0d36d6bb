using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;

namespace Sft.Web.Auth;

/// <summary>API keys in the app database: issue, look up by hash, list, revoke.</summary>
public sealed class ApiKeyStore(IDbContextFactory<SftDbContext> dbFactory, TimeProvider clock)
{
    static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>Issues a new key; the returned plaintext is shown once and never stored.</summary>
    public async Task<(ApiKeyEntity Key, string Plaintext)> CreateAsync(string name, bool isAdmin, CancellationToken ct = default)
    {
        var plaintext = ApiKeys.Generate();
        var entity = await AddAsync(name, plaintext, isAdmin, ct);
        return (entity, plaintext);
    }

    /// <summary>Stores a key whose plaintext is given (the bootstrap key from configuration).</summary>
    public async Task<ApiKeyEntity> AddAsync(string name, string plaintext, bool isAdmin, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var entity = new ApiKeyEntity
        {
            Name = name,
            Prefix = ApiKeys.PrefixOf(plaintext),
            Hash = ApiKeys.Hash(plaintext),
            IsAdmin = isAdmin,
            CreatedAt = clock.GetUtcNow(),
        };
        db.ApiKeys.Add(entity);
        await db.SaveChangesAsync(ct);
        return entity;
    }

    /// <summary>The active (not revoked) key with this plaintext, or null. Notes when it was last used (to the minute).</summary>
    public async Task<ApiKeyEntity?> ValidateAsync(string plaintext, CancellationToken ct = default)
    {
        if (ApiKeys.CheckFormat(plaintext) != null) return null;
        var hash = ApiKeys.Hash(plaintext);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Hash == hash, ct);
        if (key == null || key.RevokedAt != null) return null;
        var now = clock.GetUtcNow();
        if (key.LastUsedAt == null || now - key.LastUsedAt.Value >= LastUsedResolution)
        {
            key.LastUsedAt = now;
            await db.SaveChangesAsync(ct);
        }
        return key;
    }

    public async Task<bool> IsActiveAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiKeys.AnyAsync(k => k.Id == id && k.RevokedAt == null, ct);
    }

    public async Task<ApiKeyEntity?> FindByPlaintextAsync(string plaintext, CancellationToken ct = default)
    {
        var hash = ApiKeys.Hash(plaintext);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Hash == hash, ct);
    }

    public async Task<List<ApiKeyEntity>> ListAsync(bool includeRevoked, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.ApiKeys.AsNoTracking();
        if (!includeRevoked) query = query.Where(k => k.RevokedAt == null);
        return await query.OrderBy(k => k.Id).ToListAsync(ct);
    }

    public async Task<int> CountActiveAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiKeys.CountAsync(k => k.RevokedAt == null, ct);
    }

    /// <summary>Revokes a key; returns it, or null when there is no such key. Revoking twice keeps the first time.</summary>
    public async Task<ApiKeyEntity?> RevokeAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id, ct);
        if (key == null) return null;
        key.RevokedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return key;
    }
}
