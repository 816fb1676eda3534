// The suite runs against Express 4 and Koa 2 through npm aliases; they share
// the typings of the installed majors (only the API both have is used).
declare module 'express4' {
  import express = require('express');
  export = express;
}

declare module 'koa2' {
  import Koa = require('koa');
  export = Koa;
}

declare module 'fastify4' {
  import fastify = require('fastify');
  export = fastify;
}
