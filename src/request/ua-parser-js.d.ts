// Minimal ambient types for ua-parser-js 1.x (MIT), which ships none. Only the
// members this package reads are declared. Pinned to 1.x on purpose: 2.x is
// AGPL-3.0-or-later, and slower per parse (docs/design.md).
declare module 'ua-parser-js' {
  namespace UAParser {
    interface IBrowser {
      name?: string;
      version?: string;
      major?: string;
    }
    interface IOS {
      name?: string;
      version?: string;
    }
    interface IDevice {
      vendor?: string;
      model?: string;
      type?: string;
    }
    interface IEngine {
      name?: string;
      version?: string;
    }
    interface ICPU {
      architecture?: string;
    }
    interface IResult {
      ua: string;
      browser: IBrowser;
      os: IOS;
      device: IDevice;
      engine: IEngine;
      cpu: ICPU;
    }
  }
  class UAParser {
    constructor(ua?: string);
    getResult(): UAParser.IResult;
  }
  export = UAParser;
}
