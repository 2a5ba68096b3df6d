"""The few v4 ads routes that v3-era clients already call, answered in the v3 envelope."""
