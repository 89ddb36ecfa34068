// `vin-ocr validate`: placeholder until config validation lands (issue 3).
export async function runValidate(_args: string[]): Promise<number> {
  process.stderr.write('vin-ocr validate: not implemented yet\n');
  return 2;
}
