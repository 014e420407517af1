export const BENCH_JWT_SECRET = 'bench-jwt-secret-0123456789';
