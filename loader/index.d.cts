// Types of ./index.cjs: exactly the napi-generated loader's (native/index.d.cts).
export * from '../native/index.cjs'
