"""The HTTP edge of every API function: proxy event in, proxy response out, errors mapped in one place."""
